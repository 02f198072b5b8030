"""Caseboard settings: one file, driven by the environment (see .env.example)."""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# Production-safe by default. DEBUG is something a developer turns on by hand; it shows Django's
# debug pages (to participants too), so `make run` never turns it on.
DEBUG = env_bool("DEBUG", False)
# A laptop's conveniences, asked for explicitly by `make run`, `make cluster` and the tests: a
# generated SECRET_KEY kept in a git-ignored file, cookies without `Secure` over plain HTTP on
# 127.0.0.1, static files served from the source tree. `check --deploy` fails while it is on.
LOCAL = env_bool("CASEBOARD_LOCAL", False)
# Production profile: without DEBUG or LOCAL every transport-security setting below is on.
PRODUCTION = not (DEBUG or LOCAL)
LOCAL_SECRET_KEY_FILE = BASE_DIR / ".secret_key"


def local_secret_key(path: Path) -> str:
    """The laptop's own key: made once (random, readable by its owner only) and kept in `path`.

    It starts with "django-insecure-", so `manage.py check --deploy` reports it (security.W009).
    """
    from django.core.management.utils import get_random_secret_key

    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as out:  # two processes at once: only one creates it
        key = "django-insecure-" + get_random_secret_key()
        out.write(key + "\n")
    return key


SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY to a long random value for a server, or run "
            "`make run` (CASEBOARD_LOCAL=1) for a laptop: it keeps a generated key in .secret_key."
        )
    SECRET_KEY = local_secret_key(LOCAL_SECRET_KEY_FILE)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "channels",
    "caseboard",
    "cases",
    "polls",
    "polls.live",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session (it reads the chosen language there and in its cookie), before
    # CommonMiddleware (Django's documented order). Pages that follow the event's language
    # override it per view (caseboard/i18n.py); the console keeps the moderator's own choice.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "caseboard.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: turns a throttled login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "caseboard.urls"
ASGI_APPLICATION = "caseboard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "caseboard.i18n.javascript_catalog",
            ],
        },
    },
]

# SQLite by default; DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/caseboard) overrides.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + IMMEDIATE + a busy timeout: concurrent voters queue instead of failing
    # with "database is locked" (measured: default settings lost 36-43% of writes).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def redis_channel_layer(url: str, prefix: str = "caseboard") -> dict:
    """channels-redis settings with redis-py's risky defaults overridden.

    redis-py >= 6 gives a 5 s socket timeout (kills idle BZPOPMIN readers, channels_redis#422)
    and caps the async pool at 100 connections (MaxConnectionsError in bursts). Both are set
    here explicitly and proven by tests/test_redis_layer.py.
    """
    return {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": url,
                    "socket_timeout": None,
                    "socket_connect_timeout": 5,
                    "socket_keepalive": True,
                    "health_check_interval": 30,
                    "retry_on_timeout": True,
                    "max_connections": 1000,
                }
            ],
            "capacity": 1500,
            "expiry": 60,
            "group_expiry": 86400,
            "prefix": prefix,
        },
    }


REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {"default": redis_channel_layer(REDIS_URL, env_str("CHANNEL_LAYER_PREFIX", "caseboard"))}
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CHANNEL_LAYER_PREFIX", "caseboard"),
            "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_ENGINE = "caseboard.sessions"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttle (django-axes; caseboard/logins.py): per username and address, and per address
# with a higher budget, cooling off after CASEBOARD_LOGIN_COOLOFF_S without a counted failure.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "caseboard.logins.LoginThrottle"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("CASEBOARD_LOGIN_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(seconds=env_int("CASEBOARD_LOGIN_COOLOFF_S", 120))
# Attempts during a lockout do not extend it: a moderator behind the attacker's NAT address gets
# back in one cool-off after the last counted failure, however long the attacker keeps trying.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "caseboard.clientip.login_client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_HTTP_RESPONSE_CODE = 429

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "moderator-home"  # the console of the event he moderates
LOGOUT_REDIRECT_URL = "/"

# The room's languages (issue 18, docs/i18n.md). Each needs a complete locale/<code>/ catalogue:
# tests/test_i18n.py fails when one lacks a message. Names in their own language, as a phone's
# switcher shows them.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("pt", "Português"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The switcher's choice (set_language): read by the server only, sent like the session cookie.
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "caseboard.storage.StaticStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Production serves the collected, hashed files; a laptop serves the source tree as it is.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

# Realtime limits, documented in docs/protocol.md.
# Mail (the follow-up's invitations, `manage.py send_followups`): printed to the command's output
# by default; set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and the SMTP settings
# on a server (the console backend prints the recipient, so keep it off production logs).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Caseboard <no-reply@localhost>")

# A file past the image limit is not kept in memory or on disk (cases/uploads.py), then Django's own.
FILE_UPLOAD_HANDLERS = [
    "cases.uploads.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

CASEBOARD = {
    "MAX_FRAME_BYTES": env_int("CASEBOARD_MAX_FRAME_BYTES", 4096),
    "RATE_LIMIT_FRAMES": env_int("CASEBOARD_RATE_LIMIT_FRAMES", 20),
    # A moderator clearing a queue of questions or free-text answers clicks faster than a phone
    # votes; the console socket (a logged-in moderator of the event) gets a larger bucket.
    "RATE_LIMIT_MODERATOR_FRAMES": env_int("CASEBOARD_RATE_LIMIT_MODERATOR_FRAMES", 120),
    "RATE_LIMIT_WINDOW_S": env_int("CASEBOARD_RATE_LIMIT_WINDOW_S", 10),
    "RESULTS_MIN_INTERVAL_S": float(env_str("CASEBOARD_RESULTS_MIN_INTERVAL_S", "0.25")),
    # At most this share of a process's time goes to results fan-out; larger audiences get
    # results frames less often than RESULTS_MIN_INTERVAL_S (polls/live/hub.py, results_spacing).
    "RESULTS_FANOUT_SHARE": float(env_str("CASEBOARD_RESULTS_FANOUT_SHARE", "0.4")),
    # A handshake still waiting for admission after this long is refused with 1013
    # (polls/live/consumers.py): just under live.js's 10 s handshake timeout, or under daphne's 5 s
    # connect timeout when served by `python -m caseboard.serve`, which sets it.
    "ADMIT_DEADLINE_S": float(env_str("CASEBOARD_ADMIT_DEADLINE_S", "9")),
    # Sockets written between two yields to the event loop during a fan-out.
    "FANOUT_CHUNK": env_int("CASEBOARD_FANOUT_CHUNK", 1000),
    # Ballots written per transaction by a process's vote writer (polls/live/votewriter.py).
    "VOTE_BATCH_MAX": env_int("CASEBOARD_VOTE_BATCH_MAX", 500),
    # Unknown join codes per client address and minute, over HTTP and websockets together; over it
    # the address gets only codes already in use there (polls/joins.py, docs/protocol.md Limits).
    "JOIN_FAILURES_PER_MINUTE": env_int("CASEBOARD_JOIN_FAILURES_PER_MINUTE", 10),
    # New participant sessions per client address and minute: a room behind one NAT address joins
    # within it, a script stuffing ballots through fresh sessions does not.
    "JOINS_PER_MINUTE": env_int("CASEBOARD_JOINS_PER_MINUTE", 300),
    # Open sockets per browser session and role in one server process (tabs, projectors).
    "SOCKETS_PER_SESSION": env_int("CASEBOARD_SOCKETS_PER_SESSION", 5),
    # Proxies whose X-Forwarded-For is believed (addresses or CIDR networks; caseboard/clientip.py).
    # Empty: the header is ignored and the client is the connection's peer.
    "TRUSTED_PROXIES": env_list("CASEBOARD_TRUSTED_PROXIES", []),
    # Wrong passwords from one address, any usernames, within the login cool-off (caseboard/logins.py).
    "LOGIN_FAILURES_PER_ADDRESS": env_int("CASEBOARD_LOGIN_FAILURES_PER_ADDRESS", 30),
    "PUBLIC_BASE_URL": env_str("PUBLIC_BASE_URL"),
}

for _proxy in CASEBOARD["TRUSTED_PROXIES"]:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"CASEBOARD_TRUSTED_PROXIES: {_proxy!r} is not an IP address or network (e.g. 10.0.0.0/8)"
        ) from None

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # No case text or participant input in the logs: exception messages are withheld (the type
    # and stack stay), and per-request 4xx warnings (which quote typed join codes) are dropped.
    # Nor presenter keys, typed join codes or client ports (request lines keep the client's /24).
    "filters": {
        "redact": {"()": "caseboard.logfilters.RedactExceptionText"},
        "requests": {"()": "caseboard.logfilters.RedactRequestDetails"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact", "requests"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        # Failed logins and lockouts (username and address) at WARNING; housekeeping at INFO is noise.
        "axes": {"level": "WARNING"},
        # The report's PDF: progress lines at INFO are noise, and a warning may quote the document
        # (a URL of the recap's text): errors only, and never the report's contents.
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "WARNING"},
    },
}
