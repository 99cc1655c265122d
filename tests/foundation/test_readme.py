"""README.md stays true to the code: the two commands at the very top, a production recipe
that deploys the processes and runs the scheduler, and a command table naming every
command the app registers."""
import re
from pathlib import Path

import click

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def app_commands(app) -> set[str]:
    """'users create', 'bpmn deploy', 'worker', …: what the app adds to `flask` (not Flask-Migrate's db)."""
    names = set()
    for name, command in app.cli.commands.items():
        if name == "db":
            continue
        if isinstance(command, click.Group):
            names |= {f"{name} {sub}" for sub in command.commands}
        else:
            names.add(name)
    return names


def test_the_two_commands_come_first():
    first_block = README.split("```", 2)[1]
    assert README.index("```") < README.index("\n## ")
    assert [line.split("#")[0].strip() for line in first_block.splitlines()[1:3]] == [
        "bash scripts/run.sh", "bash scripts/test.sh"]


def test_the_production_recipe_deploys_the_processes_and_runs_the_scheduler():
    recipe = section("Running with PostgreSQL, Redis and separate workers").split("```bash\n", 1)[1].split("```")[0]
    steps = [re.sub(r"^\.venv/bin/", "", line.split("#")[0].strip()) for line in recipe.splitlines()]
    order = [next(i for i, step in enumerate(steps) if step.startswith(command)) for command in (
        "flask db upgrade", "flask calendar seed", "flask bpmn deploy", "flask demo seed", "gunicorn",
        "flask worker", "flask scheduler")]
    assert order == sorted(order)


def test_the_command_table_names_every_command(app):
    listed = set(re.findall(r"`flask ([a-z-]+(?: [a-z-]+)?)", section("Command line")))
    assert "db upgrade" in listed
    commands = app_commands(app)
    assert {"users create", "bpmn deploy", "worker", "scheduler"} <= commands  # the walk finds them
    assert {name for name in commands if name not in listed} == set()
