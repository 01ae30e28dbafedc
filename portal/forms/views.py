"""Filing a request online: start page, one page per step, check your answers, send.

Login from the service card lands here; every step is saved; back links keep the answers; the
summary lists everything with change links; sending is idempotent per draft."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict
from wtforms import BooleanField
from wtforms.validators import InputRequired

from portal.auth.oidc import acr_rank
from portal.auth.views import login_required
from portal.catalog.services import find_service
from portal.extensions import db
from portal.forms import builder, drafts, uploads
from portal.forms.schema import localized
from portal.requests import services as requests
from portal.site.errors import refuse

bp = Blueprint("forms", __name__, template_folder="templates")


ACCEPT = {"pdf": ".pdf,application/pdf", "jpeg": ".jpg,.jpeg,image/jpeg", "png": ".png,image/png"}


@bp.app_template_filter("extension_mime")
def extension_mime(name: str) -> str:
    """What a file input's `accept` lists for one of the schema's file types."""
    return ACCEPT[name]


class StartForm(FlaskForm):
    pass


class SendForm(FlaskForm):
    consent = BooleanField(
        validators=[InputRequired(message="consent")],
    )


def online_service(slug: str):
    service = find_service(slug)
    if service is None or not service.online or not service.is_active:
        abort(404)
    if drafts.latest_form(service) is None:
        abort(404)
    return service


def own_draft(service, draft_id: str):
    draft = drafts.find(draft_id, g.user)
    if draft is None or draft.service_form.service_id != service.id:
        abort(404)
    return draft


def login_too_weak(service) -> bool:
    """Whether the person logged in with a lower SPID/CIE level than the service asks."""
    return acr_rank(g.login_session.acr) < acr_rank(service.login_level)


@bp.route("/<lang:lang>/servizi/<slug>/richiesta", methods=["GET", "POST"])
def start(slug):
    service = online_service(slug)
    if g.get("user") is None:
        return redirect(url_for("auth.login", servizio=slug))
    if login_too_weak(service):
        flash(_("This service needs a higher security level: log in again."), "info")
        return redirect(url_for("auth.login", servizio=slug))
    form = StartForm()
    if form.validate_on_submit():
        draft = drafts.start(g.user, service)
        db.session.commit()
        return redirect(step_url(draft, drafts.first_incomplete(draft)), code=303)
    schema = drafts.schema_of_form(drafts.latest_form(service))
    existing = [d for d in drafts.of_user(g.user) if d.service_form.service_id == service.id]
    return render_template(
        "forms/start.html",
        service=service,
        text=service.text(g.lang),
        schema=schema,
        prepare=schema.prepare.get(g.lang) or schema.prepare.get("it") or [],
        existing=existing,
        form=form,
        lifetime_days=current_app.config["DRAFT_LIFETIME_DAYS"],
    ), 400 if form.errors else 200


def step_url(draft, step_id: str) -> str:
    slug = draft.service_form.service.slug
    if step_id == drafts.SUMMARY:
        return url_for("forms.summary", slug=slug, draft_id=draft.public_id)
    return url_for("forms.step", slug=slug, draft_id=draft.public_id, step_id=step_id)


def expected_names(step, form) -> set[str]:
    names = {"csrf_token"}
    for spec in step.fields:
        if spec.type == "address":
            names |= {f"{spec.id}-{part}" for part in ("street", "postcode", "municipality")}
        else:
            names.add(spec.id)
    return names


def step_progress(draft, step_id):
    steps = drafts.visible_steps(draft)
    ids = [s.id for s in steps]
    number = ids.index(step_id) + 1 if step_id in ids else len(ids) + 1
    return number, len(ids) + 1


@bp.route("/<lang:lang>/servizi/<slug>/richiesta/<draft_id>/<step_id>", methods=["GET", "POST"])
@login_required
def step(slug, draft_id, step_id):
    service = online_service(slug)
    draft = own_draft(service, draft_id)
    current = next((s for s in drafts.all_steps(draft) if s.id == step_id), None)
    if current is None:
        abort(404)
    if not current.visible(draft.answers or {}) or not drafts.may_open(draft, step_id):
        flash(_("Complete the steps in order: this is the first one still to fill in."), "info")
        return redirect(step_url(draft, drafts.first_incomplete(draft)))
    existing_files = {a.field_id: a for a in drafts.draft_attachments(draft)}
    status = 200
    if request.method == "POST":
        unknown = set(request.form) | set(request.files)
        unknown -= expected_names(current, None)
        if unknown:
            refuse(400, _("The form contained answers to questions it does not have."))
        form = builder.build_form(
            current,
            g.lang,
            draft.answers or {},
            formdata=CombinedMultiDict([request.files, request.form]),
        )
        valid = form.validate()
        answers = builder.answers_from(current, form, draft.answers or {})
        new_files = {}
        for spec in current.fields:
            if spec.type != "file" or not spec.visible(answers):
                continue
            upload = request.files.get(spec.id)
            if upload is None or not upload.filename:
                continue
            try:
                new_files[spec.id] = uploads.store(
                    upload,
                    allowed=spec.mime_types,
                    max_bytes=int(spec.max_size_mb * 1024 * 1024),
                    owner_id=g.user.id,
                )
            except uploads.UploadError as error:
                getattr(form, spec.id).errors = [str(error)]
                valid = False
        present = {
            **{k: v.public_id for k, v in existing_files.items()},
            **dict.fromkeys(new_files, "new"),
        }
        valid = builder.check_required(current, form, answers, present) and valid
        if valid:
            for field_id, attachment in new_files.items():
                old = existing_files.get(field_id)
                if old is not None:
                    uploads.discard(old)
                    db.session.delete(old)
                attachment.draft_id = draft.id
                attachment.field_id = field_id
                db.session.add(attachment)
            drafts.save_step(draft, current, answers)
            db.session.commit()
            if request.args.get("ritorno") == drafts.SUMMARY:
                # A change from "check your answers" goes back there, through any step the
                # change has just made necessary.
                return redirect(step_url(draft, drafts.first_incomplete(draft)), code=303)
            return redirect(step_url(draft, drafts.next_step_id(draft, step_id)), code=303)
        for attachment in new_files.values():
            uploads.discard(attachment)
        status = 400
    else:
        form = builder.build_form(current, g.lang, draft.answers or {}, formdata=None)
    number, total = step_progress(draft, step_id)
    previous = drafts.previous_step_id(draft, step_id)
    return render_template(
        "forms/step.html",
        service=service,
        text=service.text(g.lang),
        draft=draft,
        step=current,
        form=form,
        number=number,
        total=total,
        back_url=step_url(draft, previous) if previous else url_for("forms.start", slug=slug),
        existing_files=existing_files,
        conditions=condition_hints(draft, current),
        localized=localized,
    ), status


def condition_hints(draft, current) -> dict[str, str]:
    """For questions shown only after a certain answer in the same page, the sentence that
    tells people without JavaScript when to answer them."""
    fields = {spec.id: spec for s in drafts.all_steps(draft) for spec in s.fields}
    hints = {}
    for spec in current.fields:
        condition = spec.visible_if
        if condition is None or condition.field not in {f.id for f in current.fields}:
            continue
        source = fields[condition.field]
        label = localized(source.label, g.lang)
        if condition.kind == "equals":
            value = (
                (_("Yes") if condition.equals else _("No"))
                if source.type == "yesno"
                else source.choice_label(condition.equals, g.lang)
            )
        elif condition.kind == "in":
            value = " / ".join(source.choice_label(v, g.lang) for v in condition.any_of)
        else:
            value = source.choice_label(condition.contains, g.lang)
        hints[spec.id] = _(
            "Answer only if to “%(question)s” you answered “%(answer)s”.",
            question=label,
            answer=value,
        )
    return hints


def summary_sections(draft, lang):
    files = {a.field_id: a.filename for a in drafts.draft_attachments(draft)}
    return builder.sections(drafts.visible_steps(draft), draft.answers or {}, files, lang)


@bp.route("/<lang:lang>/servizi/<slug>/richiesta/<draft_id>/riepilogo", methods=["GET", "POST"])
@login_required
def summary(slug, draft_id):
    service = online_service(slug)
    sent = drafts.sent_request(draft_id, g.user)
    if sent is not None:
        # Sent already (a second click, the back button, another tab): one request stands.
        return redirect(url_for("requests.confirmation", reference=sent.reference), code=303)
    draft = own_draft(service, draft_id)
    if not drafts.may_open(draft, drafts.SUMMARY):
        flash(_("Complete the steps in order: this is the first one still to fill in."), "info")
        return redirect(step_url(draft, drafts.first_incomplete(draft)))
    form = SendForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                sent = requests.submit(draft, lang=g.lang)
            except requests.RequestError as error:
                db.session.rollback()
                flash(str(error), "danger")
                return redirect(step_url(draft, drafts.first_incomplete(draft)))
            db.session.commit()
            return redirect(url_for("requests.confirmation", reference=sent.reference), code=303)
        status = 400
    return render_template(
        "forms/summary.html",
        service=service,
        text=service.text(g.lang),
        draft=draft,
        sections=summary_sections(draft, g.lang),
        form=form,
        step_url=step_url,
        back_url=step_url(draft, drafts.previous_step_id(draft, drafts.SUMMARY)),
        consent_version=requests.CONSENT_VERSION,
    ), status
