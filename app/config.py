"""All configuration comes from environment variables, parsed here and nowhere else.

Defaults give the embedded mode: an SQLite file under instance/, jobs run in-process
(no REDIS_URL), sandbox gateways on localhost. Production sets DATABASE_URL, REDIS_URL and
real gateway URLs and secrets.
"""
import os
import secrets
from pathlib import Path


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, or one generated once into instance/secret_key."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _secret_key_fallbacks() -> list[str]:
    """SECRET_KEY_PREVIOUS (comma-separated): keys of a rotation still accepted for sessions
    and remember-me cookies signed before it, which are re-signed with the new key as they
    come in; drop it once the longest session has passed."""
    return [key.strip() for key in os.environ.get("SECRET_KEY_PREVIOUS", "").split(",") if key.strip()]


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'wuye.sqlite'}"
    # Heroku-style URLs and plain postgresql:// both mean psycopg 3 here.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    return url


# Integration signing secrets. Development uses the sandbox defaults below; production
# (WUYE_ENV=production) must set each in the environment. During a key rotation the old key
# stays accepted as <NAME>_PREVIOUS until every sender has switched.
SIGNING_SECRETS = {"BANK_SECRET": "sandbox-bank-secret", "DEVICE_SECRET": "sandbox-device-secret",
                   "HOTLINE_SECRET": "sandbox-hotline-secret"}


def _secrets() -> dict:
    production = os.environ.get("WUYE_ENV") == "production"
    missing = [name for name in [*SIGNING_SECRETS, "SECRET_KEY"] if production and not os.environ.get(name)]
    if missing:
        raise RuntimeError(f"WUYE_ENV=production needs these environment variables: {', '.join(missing)}")
    values = {}
    for name, default in SIGNING_SECRETS.items():
        values[name] = os.environ.get(name) or default
        values[f"{name}_PREVIOUS"] = os.environ.get(f"{name}_PREVIOUS") or None
    return values


def load(instance_path: str) -> dict:
    """The configuration mapping for create_app, read from the environment."""
    ipath = Path(instance_path)
    return {
        **_secrets(),
        "SECRET_KEY": _secret_key(ipath),
        "SECRET_KEY_FALLBACKS": _secret_key_fallbacks(),
        "SQLALCHEMY_DATABASE_URI": _database_url(ipath),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "RQ_QUEUES": ["default", "bank", "devices", "timers"],
        "BANK_GATEWAY_URL": os.environ.get("BANK_GATEWAY_URL", "http://127.0.0.1:8101"),
        "BANK_KEY_ID": os.environ.get("BANK_KEY_ID", "wuye"),
        "DEVICE_PLATFORM_URL": os.environ.get("DEVICE_PLATFORM_URL", "http://127.0.0.1:8102"),
        "DEVICE_KEY_ID": os.environ.get("DEVICE_KEY_ID", "wuye"),
        "HOTLINE_URL": os.environ.get("HOTLINE_URL", "http://127.0.0.1:8103"),
        "HOTLINE_KEY_ID": os.environ.get("HOTLINE_KEY_ID", "wuye"),
        "BANK_TIMEOUT": float(os.environ.get("BANK_TIMEOUT", "5")),
        # Backoff of external service-task retries: base, 3×base, 9×base … seconds.
        "ENGINE_RETRY_BASE_SECONDS": _int("ENGINE_RETRY_BASE_SECONDS", 10),
        # The city's maintenance-fund pooling account (维修资金统筹账户), a destination of year-end cuts.
        "MAINTENANCE_FUND_ACCOUNT": os.environ.get("MAINTENANCE_FUND_ACCOUNT", "6222600000000000008"),
        "MAINTENANCE_FUND_NAME": os.environ.get("MAINTENANCE_FUND_NAME", "吉首市物业维修资金统筹账户"),
        "BABEL_DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE", "zh_CN"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("TIMEZONE", "Asia/Shanghai"),
        "LANGUAGES": {"zh_CN": "简体中文", "en": "English"},
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 16 * 1024 * 1024),
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(ipath / "uploads")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        # Owner satisfaction surveys: results shown (and fed to the evaluation) only from this
        # many answers on; the public answer pages are rate-limited; QR links use PUBLIC_BASE_URL.
        "SURVEY_MIN_ANSWERS": _int("SURVEY_MIN_ANSWERS", 10),
        "SURVEY_RATE_LIMIT": os.environ.get("SURVEY_RATE_LIMIT", "30 per minute"),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", ""),
        "NODE_MODULES": os.environ.get(
            "NODE_MODULES", str(Path(__file__).resolve().parent.parent / "node_modules")
        ),
    }
