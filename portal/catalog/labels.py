"""Names the catalog pages show for sections, channels and costs (translated when shown)."""

from flask_babel import lazy_gettext as _l

# Italian labels are the Designers Italia model's exact headings ("A chi è rivolto", ...).
SECTION_LABELS = {
    "audience": _l("Who it is for"),
    "how_to": _l("How to apply"),
    "documents": _l("What you need"),
    "outputs": _l("What you get"),
    "times": _l("Times and deadlines"),
    "costs": _l("Costs"),
    "access": _l("Access the service"),
    "conditions": _l("Terms of service"),
    "contacts": _l("Contacts"),
    "topics": _l("Topics"),
}

CHANNEL_LABELS = {
    "online": _l("Online, on this portal"),
    "desk": _l("At the PUA desk"),
    "phone": _l("By phone"),
    "email": _l("By e-mail"),
    "home-visit": _l("Home visit by the social worker"),
}

COST_LABELS = {
    "free": _l("Free of charge"),
    "income-based": _l("Contribution based on income (ISEE)"),
    "fixed": _l("Fee set by the service"),
}
