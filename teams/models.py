from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from teams.querysets import TeamQuerySet, UserQuerySet


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        abstract = True


class LadderLevel(TimeStampedModel):
    """A rung of the sales career ladder (junior rep ... manager)."""

    rank = models.PositiveSmallIntegerField(_("rank"), unique=True)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_zh = models.CharField(_("Chinese name"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["rank"]
        verbose_name = _("ladder level")
        verbose_name_plural = _("ladder levels")

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.name_zh and (get_language() or "").startswith("zh"):
            return self.name_zh
        return self.name


class Team(TimeStampedModel):
    """A node of the team tree. `path` is the materialized path of ids, such as "/1/4/9/",
    so a whole subtree is one indexed prefix match, whatever its depth."""

    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    region = models.CharField(_("region"), max_length=120, blank=True)
    path = models.CharField(_("path"), max_length=500, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self):
        return self.name

    @property
    def line_ids(self) -> list[int]:
        """The ids of the team's line, from the root of the tree down to the team itself."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def clean(self):
        if self.pk and self.parent_id:
            if self.parent_id == self.pk:
                raise ValidationError({"parent": _("A team cannot be its own parent.")})
            parent_path = (
                self.parent.path if self.parent else Team.objects.get(pk=self.parent_id).path
            )
            if self.path and parent_path.startswith(self.path):
                raise ValidationError(
                    {"parent": _("A team cannot be moved below its own subtree.")}
                )


class OrgUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class Role(models.TextChoices):
    REP = "rep", _("Sales rep")
    SUPERVISOR = "supervisor", _("Supervisor")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Admin")


def full_name(first_name: str, last_name: str) -> str:
    # Chinese names are written family name first, with no space.
    if any("\u4e00" <= char <= "\u9fff" for char in first_name + last_name):
        return f"{last_name}{first_name}".strip()
    return f"{first_name} {last_name}".strip()


def person_name(username: str, first_name: str, last_name: str) -> str:
    """How a person is named everywhere: their full name, else their username (for rows
    read as plain values as well as for users)."""
    return full_name(first_name, last_name) or username


class User(AbstractUser):
    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        CHINESE = "zh-hans", _("Simplified Chinese")

    Role = Role

    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.REP)
    ladder_level = models.ForeignKey(
        LadderLevel,
        verbose_name=_("ladder level"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    hire_date = models.DateField(_("hire date"), null=True, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=Language.choices, blank=True
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    objects = OrgUserManager()

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return person_name(self.username, self.first_name, self.last_name)

    def get_full_name(self) -> str:
        return full_name(self.first_name, self.last_name)

    @property
    def display_name(self) -> str:
        return str(self)

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN


class Notification(models.Model):
    """An entry of a user's in-app inbox; also mailed once by a Celery task."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=50, default="general")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class OwnershipTransfer(models.Model):
    """The record of a reassignment of everything one user owned to another."""

    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("from user"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to user"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("performed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    performed_at = models.DateTimeField(_("performed at"), auto_now_add=True)
    counts = models.JSONField(_("records moved"), default=dict)

    class Meta:
        ordering = ["-performed_at"]
        verbose_name = _("ownership transfer")
        verbose_name_plural = _("ownership transfers")

    def __str__(self):
        return f"{self.from_user} → {self.to_user}"
