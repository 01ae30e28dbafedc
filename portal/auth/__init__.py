"""SPID/CIE login through OpenID Connect Federation, users, identities and staff roles."""

from portal.auth.services import AuthRuntime


def init_app(app):
    app.extensions["auth"] = AuthRuntime(app)
    if app.config["AUTH_TEST_LOGIN"]:
        # Refused in production by config.validate; development and tests only.
        from portal.auth.testing import bp

        app.register_blueprint(bp)
