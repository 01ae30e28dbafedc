"""The PUA portal: create_app builds the Flask application."""

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import auth, database, i18n, rendering, security
from portal import config as portal_config
from portal.api import openapi as api_openapi  # noqa: F401  (registers /api/v1/openapi.json)
from portal.api.views import bp as api_bp
from portal.audit import audit_cli
from portal.auth.cli import auth_cli
from portal.auth.views import bp as auth_bp
from portal.backoffice import bp as backoffice_bp
from portal.backoffice.cli import backoffice_cli
from portal.catalog.cli import demo_cli, translations_cli
from portal.catalog.editorial import bp as editorial_bp
from portal.catalog.views import bp as catalog_bp
from portal.extensions import babel, csrf, db, migrate
from portal.forms import uploads
from portal.forms.cli import attachments_cli, drafts_cli
from portal.forms.views import bp as forms_bp
from portal.ops.cli import ops_cli
from portal.ops.load_cli import load_cli
from portal.outbox.cli import outbox_cli
from portal.requests.cli import routing_cli
from portal.requests.views import bp as requests_bp
from portal.search import indexing
from portal.search.cli import search_cli
from portal.search.views import bp as search_bp
from portal.site import errors
from portal.site.views import bp as site_bp

BLUEPRINTS = (
    site_bp,
    catalog_bp,
    search_bp,
    auth_bp,
    forms_bp,
    requests_bp,
    backoffice_bp,
    editorial_bp,
    api_bp,
)
COMMANDS = (
    demo_cli,
    translations_cli,
    search_cli,
    auth_cli,
    drafts_cli,
    attachments_cli,
    outbox_cli,
    routing_cli,
    audit_cli,
    backoffice_cli,
    ops_cli,
    load_cli,
)

MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")


def create_app(config=None):
    """Build the application; `config` overrides defaults and the environment (tests use it)."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        static_folder=str(portal_config.PROJECT_ROOT / "static"),
    )
    app.config.from_mapping(portal_config.defaults(app.instance_path))
    app.config.from_mapping(portal_config.from_environment())
    if config:
        app.config.from_mapping(config)
    portal_config.validate(app.config)
    if app.config["TRUSTED_PROXIES"]:
        # Behind a reverse proxy: its X-Forwarded-* headers say the scheme (https, for HSTS and
        # secure cookies) and the client address (for rate limits and the audit trail).
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    babel.init_app(app, locale_selector=i18n.get_locale)
    # Registered before CSRFProtect, whose check reads the body under the size limit.
    app.before_request(uploads.allow_uploads)
    csrf.init_app(app)
    i18n.init_app(app)
    rendering.init_app(app)
    auth.init_app(app)
    uploads.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    for command in COMMANDS:
        app.cli.add_command(command)
    errors.init_app(app)
    security.init_app(app)
    indexing.init_app(app)
    return app
