"""The citizen's area ("Le mie richieste"): requests, drafts, messages, receipts, their data."""

import datetime as dt
import io
import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import BooleanField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from portal.auth.views import login_required
from portal.catalog.services import week_hours
from portal.extensions import db
from portal.forms import builder, drafts, uploads
from portal.forms.schema import FILE_TYPES
from portal.requests import export, receipt
from portal.requests import services as requests
from portal.requests.models import Attachment

bp = Blueprint("requests", __name__, template_folder="templates")

STATE_LABELS = {
    "submitted": _l("Sent, waiting to be taken in charge"),
    "in_charge": _l("Taken in charge by the PUA"),
    "assessment": _l("Being assessed"),
    "waiting_citizen": _l("Waiting for your answer or documents"),
    "project_defined": _l("Individual project defined"),
    "rerouted": _l("Passed to another office of the PUA"),
    "closed": _l("Closed"),
    "rejected": _l("Not accepted"),
    "withdrawn": _l("Withdrawn by you"),
}
EVENT_LABELS = {
    "submitted": _l("Request sent"),
    "withdrawn": _l("Request withdrawn"),
    "citizen_message": _l("You wrote a message"),
    "staff_message": _l("The PUA wrote to you"),
    "rated": _l("You rated the service"),
    "state_changed": _l("State changed"),
}


class WithdrawForm(FlaskForm):
    confirm = BooleanField(
        _l("Yes, I want to withdraw this request"),
        validators=[InputRequired(message=_l("Tick the box to confirm the withdrawal."))],
    )
    reason = TextAreaField(_l("Why (optional)"), validators=[Optional(), Length(max=1000)])


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Your message"),
        validators=[
            InputRequired(message=_l("Write your message.")),
            Length(max=4000, message=_l("Write at most %(max)d characters.", max=4000)),
        ],
    )
    document = FileField(_l("Attach a document (optional)"))


class RatingForm(FlaskForm):
    rating = RadioField(
        _l("How satisfied are you with the service?"),
        choices=[
            SelectChoice("1", _l("1 - Not at all")),
            SelectChoice("2", _l("2 - Not very")),
            SelectChoice("3", _l("3 - Fairly")),
            SelectChoice("4", _l("4 - Satisfied")),
            SelectChoice("5", _l("5 - Very satisfied")),
        ],
        validators=[InputRequired(message=_l("Choose a rating from 1 to 5."))],
    )
    comment = TextAreaField(
        _l("What could we do better? (optional)"), validators=[Optional(), Length(max=2000)]
    )


class DeleteDraftForm(FlaskForm):
    pass


def own_request(reference: str):
    found = requests.find(reference, g.user)
    if found is None:
        abort(404)
    return found


@bp.context_processor
def labels():
    return {"state_labels": STATE_LABELS, "event_labels": EVENT_LABELS}


@bp.get("/<lang:lang>/area-personale/")
@login_required
def area():
    return render_template(
        "requests/area.html",
        requests=requests.of_user(g.user),
        drafts=drafts.of_user(g.user),
        expiring_soon=drafts.expiring_soon,
        delete_form=DeleteDraftForm(),
        step_url=lambda d: url_for(
            "forms.step" if drafts.first_incomplete(d) != drafts.SUMMARY else "forms.summary",
            slug=d.service_form.service.slug,
            draft_id=d.public_id,
            **(
                {"step_id": drafts.first_incomplete(d)}
                if drafts.first_incomplete(d) != drafts.SUMMARY
                else {}
            ),
        ),
    )


@bp.post("/<lang:lang>/area-personale/bozze/<draft_id>/elimina")
@login_required
def delete_draft(draft_id):
    draft = drafts.find(draft_id, g.user)
    if draft is None:
        abort(404)
    if DeleteDraftForm().validate_on_submit():
        for attachment in drafts.draft_attachments(draft):
            uploads.discard(attachment)
            db.session.delete(attachment)
        db.session.delete(draft)
        db.session.commit()
        flash(_("The draft has been deleted."), "info")
    return redirect(url_for("requests.area"), code=303)


def answer_sections(found, lang) -> list[tuple[str, list]]:
    """The answers to the service's own questions, step by step."""
    steps = drafts.schema_of_form(found.service_form).steps
    files = {a.field_id: a.filename for a in found.attachments if a.field_id}
    return [
        (title, rows)
        for _step, title, rows in builder.sections(steps, found.answers or {}, files, lang)
    ]


@bp.get("/<lang:lang>/area-personale/richieste/<reference>")
@login_required
def detail(reference):
    found = own_request(reference)
    return render_detail(found)


def render_detail(found, status=200, **forms):
    desk = found.queue.desk
    return render_template(
        "requests/detail.html",
        req=found,
        service_text=found.service.text(g.lang),
        desk=desk,
        week=week_hours(desk),
        events=requests.public_events(found),
        sections=answer_sections(found, g.lang),
        withdraw_form=forms.get("withdraw_form") or WithdrawForm(),
        reply_form=forms.get("reply_form") or ReplyForm(),
        rating_form=forms.get("rating_form") or RatingForm(),
        rateable=found.state in requests.RATEABLE and found.satisfaction is None,
    ), status


@bp.get("/<lang:lang>/area-personale/richieste/<reference>/inviata")
@login_required
def confirmation(reference):
    found = own_request(reference)
    return render_template(
        "requests/confirmation.html",
        req=found,
        service_text=found.service.text(g.lang),
        desk=found.queue.desk,
    )


@bp.get("/<lang:lang>/area-personale/richieste/<reference>/ricevuta.pdf")
@login_required
def receipt_pdf(reference):
    found = own_request(reference)
    desk = found.queue.desk
    contacts = " · ".join(
        part for part in (desk.address, desk.city, desk.email, desk.phone) if part
    )
    data = receipt.ReceiptData(
        reference=found.reference,
        service_title=found.service.text(g.lang).title,
        submitted_at=found.submitted_at.replace(tzinfo=dt.UTC),
        applicant_name=found.applicant.full_name,
        applicant_fiscal_code=found.applicant.fiscal_number,
        beneficiary_name=None if found.for_self else found.beneficiary_name,
        beneficiary_fiscal_code=None if found.for_self else found.beneficiary_fiscal_code,
        comune=found.comune.name,
        desk_name=desk.name,
        desk_contacts=contacts,
        deadline=found.deadline,
        answers=answer_sections(found, g.lang),
        attachments=[(a.filename, a.sha256) for a in found.attachments],
        portal_name=current_app.config["PORTAL_NAME"],
        request_url=url_for("requests.detail", reference=found.reference, _external=True),
    )
    return Response(
        receipt.render_receipt(data),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="ricevuta-{found.reference}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.post("/<lang:lang>/area-personale/richieste/<reference>/ritira")
@login_required
def withdraw(reference):
    found = own_request(reference)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return render_detail(found, 400, withdraw_form=form)
    try:
        requests.withdraw(found, g.user, form.reason.data or "")
    except requests.RequestError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("requests.detail", reference=reference), code=303)
    db.session.commit()
    flash(_("Your request has been withdrawn."), "info")
    return redirect(url_for("requests.detail", reference=reference), code=303)


@bp.post("/<lang:lang>/area-personale/richieste/<reference>/messaggi")
@login_required
def reply(reference):
    found = own_request(reference)
    form = ReplyForm()
    if not form.validate_on_submit():
        return render_detail(found, 400, reply_form=form)
    attachment = None
    if form.document.data and form.document.data.filename:
        try:
            attachment = uploads.store(
                form.document.data,
                allowed={mime: name for name, mime in FILE_TYPES.items()},
                max_bytes=requests.config_upload_limit(),
                owner_id=g.user.id,
            )
        except uploads.UploadError as error:
            form.document.errors = [str(error)]
            return render_detail(found, 400, reply_form=form)
    try:
        requests.reply(found, g.user, form.body.data.strip(), attachment)
    except requests.RequestError as error:
        db.session.rollback()
        if attachment is not None:
            uploads.discard(attachment)
        flash(str(error), "danger")
        return redirect(url_for("requests.detail", reference=reference), code=303)
    db.session.commit()
    flash(_("Your message has been sent to the PUA."), "success")
    return redirect(url_for("requests.detail", reference=reference, _anchor="messages"), code=303)


@bp.post("/<lang:lang>/area-personale/richieste/<reference>/valutazione")
@login_required
def rate(reference):
    found = own_request(reference)
    form = RatingForm()
    if not form.validate_on_submit():
        return render_detail(found, 400, rating_form=form)
    try:
        requests.rate(found, g.user, int(form.rating.data), form.comment.data or "")
    except requests.RequestError as error:
        db.session.rollback()
        flash(str(error), "info")
        return redirect(url_for("requests.detail", reference=reference), code=303)
    db.session.commit()
    flash(_("Thank you: your rating helps the PUA improve."), "success")
    return redirect(url_for("requests.detail", reference=reference), code=303)


@bp.get("/<lang:lang>/area-personale/allegati/<public_id>")
@login_required
def attachment(public_id):
    found = db.session.scalar(select(Attachment).where(Attachment.public_id == public_id))
    if found is None or not requests.can_download(g.user, found):
        abort(404)
    return send_file(
        io.BytesIO(uploads.read(found)),
        mimetype=found.mime_type,
        as_attachment=True,
        download_name=found.filename,
        max_age=0,
    )


@bp.get("/<lang:lang>/area-personale/i-miei-dati.json")
@login_required
def my_data():
    body = json.dumps(export.export(g.user), ensure_ascii=False, indent=2)
    today = format_date(format="yyyy-MM-dd")
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="i-miei-dati-{today}.json"',
            "Cache-Control": "private, no-store",
        },
    )
