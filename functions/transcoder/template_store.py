"""Custom templates: stored per account, names unique per account, built-ins always present."""

import os
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from transcoder import repository
from transcoder.ids import new_task_id
from transcoder.templates import BUILTIN_TEMPLATES, Template, TemplateType, find_builtin


class TemplateIdIndex(GlobalSecondaryIndex["TemplateModel"]):  # type: ignore[no-untyped-call]  # pynamodb's hook
    class Meta:
        index_name = "template_id"
        projection = AllProjection()

    template_id = UnicodeAttribute(hash_key=True)


class TemplateModel(Model):
    class Meta:
        table_name = os.environ.get("TEMPLATE_TABLE", "transcoder-templates")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")

    account_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(range_key=True)
    template_id = UnicodeAttribute()
    by_id = TemplateIdIndex()
    fields = JSONAttribute()
    create_time = NumberAttribute()
    update_time = NumberAttribute()

    def to_template(self) -> Template:
        return Template.from_dict({**self.fields, "template_id": self.template_id, "name": self.name})


class DuplicateName(Exception):
    pass


def new_template_id() -> str:
    return "tpl-" + new_task_id()


def add(template: Template, *, account_id: str) -> Template:
    if find_builtin(name=template.name):
        raise DuplicateName(f"name {template.name!r} is a built-in template")
    now = repository.now()
    item = TemplateModel(
        account_id=account_id,
        name=template.name,
        template_id=template.template_id,
        fields=_fields(template),
        create_time=now,
        update_time=now,
    )
    if not repository.save_new(item, TemplateModel.name.does_not_exist()):
        raise DuplicateName(f"template {template.name!r} already exists")
    return template


def replace(template: Template, *, account_id: str) -> Template:
    """Write the changed fields of an existing custom template (its name and id stay)."""
    item = TemplateModel(account_id, template.name)
    item.update(
        actions=[TemplateModel.fields.set(_fields(template)), TemplateModel.update_time.set(repository.now())],
        condition=TemplateModel.template_id == template.template_id,
    )
    return template


def find(*, account_id: str, name: str | None = None, template_id: str | None = None) -> Template | None:
    """A built-in or one of the account's custom templates, by name or by id."""
    builtin = find_builtin(name=name, template_id=template_id)
    if builtin:
        return builtin
    if name:
        try:
            return TemplateModel.get(account_id, name, consistent_read=True).to_template()
        except DoesNotExist:
            return None
    if template_id:
        for item in TemplateModel.by_id.query(template_id):
            if item.account_id == account_id:
                return item.to_template()
    return None


def list_all(*, account_id: str) -> list[Template]:
    custom = [item.to_template() for item in TemplateModel.query(account_id)]
    return [*BUILTIN_TEMPLATES, *custom]


def delete(template: Template, *, account_id: str) -> None:
    TemplateModel(account_id, template.name).delete(condition=TemplateModel.template_id == template.template_id)


def _fields(template: Template) -> dict[str, Any]:
    data = template.to_dict()
    for key in ("template_id", "name"):
        data.pop(key)
    data["template_type"] = TemplateType.CUSTOM.value
    return data
