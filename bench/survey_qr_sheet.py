"""How long the satisfaction survey's QR sheet takes to render: QR codes and the PDF for one
part of `SHEET_SLIPS` households (the page offers the sheet in such parts). Prints figures.

    .venv/bin/python -m bench.survey_qr_sheet
"""
import time
from types import SimpleNamespace

from app import create_app


def main() -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "bench", "REDIS_URL": None})
    with app.test_request_context():
        from app.services import documents, surveys
        survey = SimpleNamespace(community=SimpleNamespace(name="世纪华庭"), year=2026)
        documents.render_pdf("documents/survey_qr_sheet.html", survey=survey, rows=[])  # fonts loaded once
        for n in (20, surveys.SHEET_SLIPS):
            started = time.perf_counter()
            rows = [{"number": i, "url": f"https://wuye.example.cn/s/2026/{'x' * 32}{i}"} for i in range(1, n + 1)]
            for row in rows:
                row["qr"] = surveys.qr_png(row["url"])
            coded = time.perf_counter()
            pdf = documents.render_pdf("documents/survey_qr_sheet.html", survey=survey, rows=rows)
            done = time.perf_counter()
            print(f"{n:4d} households: QR codes {coded - started:5.2f} s, PDF {done - coded:5.2f} s, {len(pdf) / 1024:7.0f} KiB")


if __name__ == "__main__":
    main()
