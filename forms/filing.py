"""Forms of enterprise filing (bpmn/filing.bpmn) and its pages: the enterprise's filing,
the center's review, the filing demand, the register import and enterprise sign-up."""
import re

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (BooleanField, DateField, FieldList, Form, FormField, IntegerField, PasswordField, RadioField,
                     SelectField, SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, ValidationError

from app.validators import is_valid_id_number, is_valid_uscc
from forms import BaseForm

# What the reviewer may ask an enterprise to supplement (the checklist of a filing).
SUPPLEMENT_ITEMS = [
    ("licence", _l("营业执照信息或扫描件")),
    ("legal_rep", _l("法定代表人信息")),
    ("qualification", _l("资质及管理制度")),
    ("staff", _l("从业人员及项目经理信息")),
    ("communities", _l("在管小区及服务合同")),
    ("other", _l("其他（见审核意见）")),
]


def parse_people(text: str) -> list[dict]:
    """Lines of "姓名 身份证号 [电话]" → dicts; raises ValueError naming the bad line."""
    people = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        parts = [p for p in re.split(r"[\s,，、]+", line.strip()) if p]
        if not parts:
            continue
        if len(parts) < 2 or not is_valid_id_number(parts[1].upper()):
            raise ValueError(number)
        people.append({"name": parts[0], "id_number": parts[1].upper(), "phone": parts[2] if len(parts) > 2 else ""})
    return people


def validate_people(form, field):
    try:
        parse_people(field.data)
    except ValueError as e:
        raise ValidationError(_l("第 %(n)s 行应为“姓名 身份证号 电话”，且身份证号须有效。", n=e.args[0]))


def validate_id_number(form, field):
    if field.data and not is_valid_id_number(field.data.strip().upper()):
        raise ValidationError(_l("身份证号码格式或校验位不正确。"))


def validate_uscc(form, field):
    if field.data and not is_valid_uscc(field.data.strip().upper()):
        raise ValidationError(_l("统一社会信用代码格式或校验位不正确。"))


def scan_only(form, field):
    """A scanned document is a PDF or an image, by name and by content (an office file is
    refused); checked with the form, before any upload is stored."""
    from app.services import attachments
    upload = field.data
    if upload and getattr(upload, "filename", ""):
        if message := attachments.problem(upload, attachments.SCAN_KINDS):
            raise ValidationError(message)


SCAN_ACCEPT = {"accept": "application/pdf,image/jpeg,image/png"}

# Documents a filing must carry; a later round may keep the earlier upload.
REQUIRED_DOCUMENTS = ("licence_scan",)
BLANK_COMMUNITY_ROWS = 2  # empty rows offered below the ones filled in
COMMUNITY_ROW_FIELDS = ("community_id", "name", "address", "contract_starts", "contract_ends", "contract_scan")


def is_blank_row(row: dict) -> bool:
    """A community row with nothing in it (form data or stored data alike) is ignored."""
    return not (row.get("community_id") or (row.get("name") or "").strip() or (row.get("address") or "").strip()
                or row.get("contract_starts") or row.get("contract_ends") or row.get("contract_scan"))


def row_key(row: dict):
    """What identifies a community across rounds: its record, or the name of one not yet known."""
    return ("id", int(row["community_id"])) if row.get("community_id") else ("name", (row.get("name") or "").strip())


class FilingCommunityForm(Form):
    """A community the enterprise serves, with its contract: one the system knows (picked
    from the list), or the name and address of one it does not know yet."""

    community_id = SelectField(_l("小区"), coerce=int, default=0, validate_choice=False,
                               description=_l("从本市已登记的小区中选择"))
    name = StringField(_l("小区名称"), validators=[Length(max=200)], description=_l("列表中没有的小区填写名称和地址"))
    address = StringField(_l("小区地址"), validators=[Length(max=300)])
    contract_starts = DateField(_l("合同起始日期"), validators=[Optional()])
    contract_ends = DateField(_l("合同终止日期"), validators=[Optional()])
    contract_scan = FileField(_l("物业服务合同扫描件"), validators=[scan_only], render_kw=SCAN_ACCEPT,
                              description=_l("PDF 或图片；补正时可不重新上传"))

    def validate(self, extra_validators=None):
        if is_blank_row(self.data):
            return True
        ok = super().validate(extra_validators)
        if self.community_id.data:
            if self.community_id.data not in dict(self.community_id.choices or []):
                self.community_id.errors.append(_l("请从列表中选择小区。"))
                ok = False
        else:
            for field, message in ((self.name, _l("请选择小区，或填写系统中没有的小区名称。")),
                                   (self.address, _l("请填写该小区的地址。"))):
                if not (field.data or "").strip():
                    field.errors.append(message)
                    ok = False
        if self.contract_starts.data and self.contract_ends.data and self.contract_ends.data <= self.contract_starts.data:
            self.contract_ends.errors.append(_l("合同终止日期须晚于起始日期。"))
            ok = False
        return ok


def community_choices() -> list[tuple[int, str]]:
    from app.extensions import db
    from app.models import Community, StreetOffice
    rows = db.session.execute(db.select(Community.id, Community.name, StreetOffice.name).join(StreetOffice)
                              .order_by(StreetOffice.name, Community.name)).all()
    return [(0, str(_l("— 其他小区（填写名称和地址）—")))] + [(i, f"{name}（{street}）") for i, name, street in rows]


class FilingForm(BaseForm):
    """The enterprise's filing (policy 三(六)): licence, legal representative, qualifications,
    staff and managers, the communities it serves with their contracts, scanned documents."""

    registered_capital = StringField(_l("注册资本（万元）"), validators=[DataRequired(_l("请填写注册资本。")),
                                                                     Length(max=30)])
    registered_address = StringField(_l("住所"), validators=[DataRequired(_l("请填写住所。")), Length(max=300)])
    established_on = DateField(_l("成立日期"), validators=[DataRequired(_l("请填写成立日期（年-月-日）。"))])
    business_scope = TextAreaField(_l("经营范围"), validators=[DataRequired(_l("请填写经营范围。")), Length(max=2000)])
    legal_rep_name = StringField(_l("法定代表人"), validators=[DataRequired(_l("请填写法定代表人姓名。")), Length(max=50)])
    legal_rep_id_number = StringField(_l("法定代表人身份证号"),
                                      validators=[DataRequired(_l("请填写身份证号。")), validate_id_number])
    qualification = TextAreaField(_l("资质及管理制度"), validators=[DataRequired(_l("请填写资质及管理制度。")),
                                                              Length(max=2000)])
    staff_count = IntegerField(_l("从业人员人数"), validators=[DataRequired(_l("请填写从业人员人数。")),
                                                          NumberRange(1, 100000, _l("人数须为 1 至 100000。"))])
    managers = TextAreaField(_l("项目经理"), validators=[DataRequired(_l("请至少填写一名项目经理。")), validate_people],
                             description=_l("每行一人：姓名 身份证号 电话"))
    communities = FieldList(FormField(FilingCommunityForm), label=_l("在管小区及服务合同"), min_entries=1,
                            max_entries=200, description=_l("每个小区一行，附服务合同扫描件；行不够时保存草稿即可增加空行"))
    licence_scan = FileField(_l("营业执照扫描件"), validators=[scan_only], render_kw=SCAN_ACCEPT,
                             description=_l("PDF 或图片，不超过 10 MB；补正时可不重新上传"))
    other_documents = FileField(_l("其他材料"), validators=[scan_only], render_kw=SCAN_ACCEPT,
                                description=_l("可选，PDF 或图片"))
    declaration = BooleanField(_l("本企业承诺所填信息及所附材料真实、完整"),
                               validators=[DataRequired(_l("须承诺所填信息真实。"))])

    def bind_task(self, row) -> None:
        """The city's communities to pick from, and empty rows below those filled in."""
        if not self.is_submitted():
            for _ in range(BLANK_COMMUNITY_ROWS - sum(is_blank_row(e.data) for e in self.communities.entries)):
                self.communities.append_entry()
        choices = community_choices()
        for entry in self.communities.entries:
            entry.form.community_id.choices = choices

    def validate_communities(self, field):
        rows = [entry.data for entry in field.entries]
        if all(is_blank_row(row) for row in rows):
            raise ValidationError(_l("请至少填写一个在管小区。"))
        seen = {}
        for number, row in enumerate(rows, start=1):
            if is_blank_row(row):
                continue
            if row_key(row) in seen:
                raise ValidationError(_l("第 %(n)d 行与第 %(m)d 行是同一个小区。", n=number, m=seen[row_key(row)]))
            seen[row_key(row)] = number

    @classmethod
    def prefill(cls, row) -> dict | None:
        """A returned filing opens with what the enterprise submitted last time."""
        from app.services.filing import filing_for_instance
        filing = filing_for_instance(row.instance_id)
        if not filing or not filing.details:
            return None
        data = {k: v for k, v in filing.details.items() if k in cls._declared() and not k.endswith("_scan")}
        data.pop("declaration", None)
        if isinstance(data.get("communities"), list):
            data["communities"] = [{k: v for k, v in r.items() if k in COMMUNITY_ROW_FIELDS}
                                   for r in data["communities"]]
        else:  # a filing from before the communities were structured: free text
            data.pop("communities", None)
        for r in data.get("communities", []):
            r.pop("contract_scan", None)
            r["community_id"] = r.get("community_id") or 0
        return data

    @classmethod
    def _declared(cls) -> set:
        return {name for name in dir(cls) if not name.startswith("_")}

    def check_task(self, user, row) -> dict:
        """Mandatory documents: uploaded now, or kept from an earlier round of this filing;
        each community's contract likewise (kept for the same community)."""
        from app.services.filing import filing_for_instance
        filing = filing_for_instance(row.instance_id)
        earlier = filing.details if filing else {}
        problems = {name: str(_l("请上传%(label)s。", label=getattr(self, name).label.text))
                    for name in REQUIRED_DOCUMENTS
                    if not (getattr(self, name).data and getattr(self, name).data.filename) and not earlier.get(name)}
        kept = {row_key(r) for r in earlier.get("communities") or [] if isinstance(r, dict) and r.get("contract_scan")}
        for entry in self.communities.entries:
            if not is_blank_row(entry.data) and not entry.form.contract_scan.data and row_key(entry.data) not in kept:
                problems[entry.form.contract_scan.name] = str(_l("请上传该小区的物业服务合同扫描件。"))
        return problems


class DemandFilingForm(FilingForm):
    """The filing asked for by a filing demand: file it, or declare refusal."""

    response = RadioField(_l("答复"), choices=[("file", _l("办理备案")), ("refuse", _l("拒不备案"))], default="file",
                          validators=[DataRequired(_l("请选择答复。"))])
    refusal_reason = TextAreaField(_l("拒不备案的理由"), validators=[Length(max=2000)])

    def validate(self, extra_validators=None):
        if self.response.data != "refuse":
            return super().validate(extra_validators)
        ok = all(self._fields[name].validate(self) for name in ("csrf_token", "response", "refusal_reason")
                 if name in self._fields)
        if not (self.refusal_reason.data or "").strip():
            self.refusal_reason.errors = list(self.refusal_reason.errors) + [_l("拒不备案时须说明理由。")]
            ok = False
        return ok

    def check_task(self, user, row) -> dict:
        return {} if self.response.data == "refuse" else super().check_task(user, row)


class FilingReviewForm(BaseForm):
    decision = RadioField(_l("审核结论"), choices=[("accept", _l("准予备案")), ("return", _l("退回补正"))],
                          validators=[DataRequired(_l("请选择审核结论。"))])
    supplement_items = SelectMultipleField(_l("需补正的材料"), choices=SUPPLEMENT_ITEMS,
                                           description=_l("退回补正时至少选择一项"))
    comment = TextAreaField(_l("审核意见"), validators=[Length(max=2000)])

    def validate_supplement_items(self, field):
        if self.decision.data == "return" and not field.data:
            raise ValidationError(_l("退回补正时须列明需补正的材料。"))

    def validate_comment(self, field):
        if self.decision.data == "return" and "other" in (self.supplement_items.data or []) \
                and not (field.data or "").strip():
            raise ValidationError(_l("选择“其他”时须在审核意见中说明。"))


class FilingDemandForm(BaseForm):
    """The center's filing demand to an enterprise found operating without filing."""

    enterprise_id = SelectField(_l("未备案企业"), coerce=int, validators=[DataRequired(_l("请选择企业。"))])
    deadline = DateField(_l("备案期限"), validators=[DataRequired(_l("请填写备案期限（年-月-日）。"))],
                         description=_l("默认为 10 个工作日后"))
    finding = TextAreaField(_l("发现情况"), validators=[DataRequired(_l("请说明发现该企业未备案经营的情况。")),
                                                    Length(max=2000)])


class UnfiledEnterpriseForm(BaseForm):
    """Manual entry of an enterprise found operating without filing."""

    name = StringField(_l("企业名称"), validators=[DataRequired(_l("请填写企业名称。")), Length(max=200)])
    uscc = StringField(_l("统一社会信用代码"), validators=[DataRequired(_l("请填写统一社会信用代码。")), validate_uscc])
    address = StringField(_l("住所"), validators=[Length(max=300)])
    contact_name = StringField(_l("联系人"), validators=[Length(max=50)])
    contact_phone = StringField(_l("联系电话"), validators=[Length(max=30)])


class RegisterImportForm(BaseForm):
    file = FileField(_l("市场监管登记名册"), description=_l("CSV 或 Excel（.xlsx），列：企业名称、统一社会信用代码、住所、联系人、联系电话"))


class EnterpriseSignupForm(BaseForm):
    """An enterprise opens its account to file (policy 三(六): enterprises file on their own)."""

    name = StringField(_l("企业名称"), validators=[DataRequired(_l("请填写企业名称。")), Length(max=200)])
    uscc = StringField(_l("统一社会信用代码"), validators=[DataRequired(_l("请填写统一社会信用代码。")), validate_uscc])
    contact_name = StringField(_l("联系人"), validators=[DataRequired(_l("请填写联系人。")), Length(max=50)])
    contact_phone = StringField(_l("联系电话"), validators=[DataRequired(_l("请填写联系电话。")), Length(max=30)])
    username = StringField(_l("登录用户名"), validators=[DataRequired(_l("请填写用户名。")), Length(min=3, max=80)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请设置密码。"))],
                             description=_l("至少 10 位，且不能过于简单"))
    password2 = PasswordField(_l("确认密码"), validators=[DataRequired(_l("请再次输入密码。")),
                                                      EqualTo("password", _l("两次输入的密码不一致。"))])

