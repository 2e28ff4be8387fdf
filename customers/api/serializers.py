from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.models import (
    Account,
    Contact,
    FollowUp,
    Industry,
    Interaction,
    Region,
    Tag,
)
from teams.models import Team, User


@extend_schema_field(OpenApiTypes.INT)
class VisibleAccountField(serializers.PrimaryKeyRelatedField):
    """An account id the caller may see; any other id is "does not exist", never
    "forbidden", so ids cannot be probed."""

    def get_queryset(self):
        return Account.objects.visible_to(self.context["request"].user)


@extend_schema_field(OpenApiTypes.INT)
class VisibleContactField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Contact.objects.visible_to(self.context["request"].user)


class TombstoneMixin:
    """With `?include_deleted=1`, soft-deleted rows are sent as {id, deleted, deleted_at,
    updated_at} so sync clients can delete their copies."""

    def to_representation(self, instance):
        if getattr(instance, "deleted_at", None) is not None:
            return TombstoneSerializer(instance).data
        return super().to_representation(instance)


class TombstoneSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    deleted = serializers.SerializerMethodField()
    deleted_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_deleted(self, obj) -> bool:
        return True


class LookupSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        fields = ["id", "code", "name", "name_zh", "display_name", "active", "order"]


class IndustrySerializer(LookupSerializer):
    class Meta(LookupSerializer.Meta):
        model = Industry


class RegionSerializer(LookupSerializer):
    class Meta(LookupSerializer.Meta):
        model = Region


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "colour"]


class UserBriefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name"]


class AccountBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "name", "owner", "status"]


class AccountListSerializer(serializers.Serializer):
    """A list row, from customers.selectors.account_rows: related records as ids (and the
    owner's name), never nested lists; a soft-deleted row is a tombstone (see
    TombstoneMixin). Written out by hand, since a list page has many rows."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=Account.Status.choices)
    tier = serializers.ChoiceField(choices=Account.Tier.choices)
    lead_score = serializers.IntegerField()
    industry = serializers.IntegerField(allow_null=True)
    region = serializers.IntegerField(allow_null=True)
    size_band = serializers.ChoiceField(choices=Account.SizeBand.choices, allow_null=True)
    source = serializers.ChoiceField(choices=Account.Source.choices)
    owner = serializers.IntegerField(allow_null=True)
    owner_name = serializers.CharField(allow_null=True)
    pool_team = serializers.IntegerField(allow_null=True)
    in_pool = serializers.BooleanField()
    tags = serializers.ListField(child=serializers.IntegerField())
    last_contacted_at = serializers.DateTimeField(allow_null=True)
    external_id = serializers.CharField(allow_blank=True)
    updated_at = serializers.DateTimeField()

    def to_representation(self, row):
        moment = self.fields["updated_at"].to_representation
        if row["deleted_at"] is not None:
            return {
                "id": row["id"],
                "deleted": True,
                "deleted_at": moment(row["deleted_at"]),
                "updated_at": moment(row["updated_at"]),
            }
        contacted = row["last_contacted_at"]
        return {
            "id": row["id"],
            "name": row["name"],
            "status": row["status"],
            "tier": row["tier"],
            "lead_score": row["lead_score"],
            "industry": row["industry_id"],
            "region": row["region_id"],
            "size_band": row["size_band"],
            "source": row["source"],
            "owner": row["owner_id"],
            "owner_name": row["owner_name"],
            "pool_team": row["pool_team_id"],
            "in_pool": Account.pooled(row["owner_id"], row["pool_team_id"]),
            "tags": row["tags"],
            "last_contacted_at": None if contacted is None else moment(contacted),
            "external_id": row["external_id"],
            "updated_at": moment(row["updated_at"]),
        }


class AccountSerializer(serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )
    owner_name = serializers.CharField(source="owner.display_name", default=None, read_only=True)
    industry = serializers.PrimaryKeyRelatedField(
        queryset=Industry.objects.all(), required=False, allow_null=True
    )
    region = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.all(), required=False, allow_null=True
    )
    pool_team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    tags = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), many=True, required=False)
    in_pool = serializers.BooleanField(read_only=True)
    allow_duplicate = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text=_("Create the account even if it looks like an existing one."),
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "industry",
            "region",
            "size_band",
            "revenue_band",
            "status",
            "tier",
            "lead_score",
            "source",
            "owner",
            "owner_name",
            "pool_team",
            "in_pool",
            "released_at",
            "tags",
            "website",
            "phone",
            "email",
            "address",
            "notes",
            "external_id",
            "last_contacted_at",
            "created_at",
            "updated_at",
            "allow_duplicate",
        ]
        read_only_fields = [
            "tier",
            "lead_score",
            "released_at",
            "last_contacted_at",
            "created_at",
            "updated_at",
        ]
        # Uniqueness of external_id is checked by the service (model constraint), so the
        # message is the same in every front door.
        validators = []
        extra_kwargs = {"external_id": {"validators": []}}


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=100, help_text=_("Name, pinyin, initials, phone or email.")
    )
    limit = serializers.IntegerField(required=False, default=20, min_value=1, max_value=50)


class ContactBriefSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = Contact
        fields = ["id", "name", "account", "account_name", "title", "mobile", "email"]


class AccountDuplicateQuerySerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(required=False, allow_blank=True, default="")
    email = serializers.CharField(required=False, allow_blank=True, default="")
    website = serializers.CharField(required=False, allow_blank=True, default="")


class ReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class AccountReassignSerializer(serializers.Serializer):
    to_user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())


class BulkReassignSerializer(AccountReassignSerializer):
    accounts = serializers.ListField(
        child=serializers.IntegerField(), min_length=1, max_length=1000
    )


class BulkTagSerializer(serializers.Serializer):
    accounts = serializers.ListField(
        child=serializers.IntegerField(), min_length=1, max_length=1000
    )
    tags = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), many=True)
    remove = serializers.BooleanField(required=False, default=False)


class MergeSerializer(serializers.Serializer):
    merged = VisibleAccountField(help_text=_("The account folded into this one."))


class MergeResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survivor = serializers.IntegerField(source="survivor_id")
    merged = serializers.IntegerField(source="merged_id")
    counts = serializers.DictField(child=serializers.IntegerField())


class CountSerializer(serializers.Serializer):
    changed = serializers.IntegerField()


class ScoreRuleSerializer(serializers.Serializer):
    rule = serializers.IntegerField(source="rule.pk")
    name = serializers.CharField(source="rule.name")
    field = serializers.CharField(source="rule.field")
    operator = serializers.CharField(source="rule.operator")
    value = serializers.CharField(source="rule.value")
    actual = serializers.JSONField()
    matched = serializers.BooleanField()
    points = serializers.IntegerField()


class ScoreSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    tier = serializers.CharField()
    results = ScoreRuleSerializer(many=True)


class TimelineEntrySerializer(serializers.Serializer):
    """One timeline entry (customers.selectors.TimelineEntry): who it is by as an id and a
    name, as a list row names its owner. `detail` holds the kind's own facts: an
    interaction's type, outcome, summary, next step and contact; a follow-up's status,
    priority and note; an event's type and details; a deal change's label, deal, stages and
    amount. Written out by hand, since a timeline has many entries."""

    kind = serializers.CharField()
    at = serializers.DateTimeField()
    id = serializers.IntegerField()
    title = serializers.CharField()
    by = serializers.IntegerField(allow_null=True)
    by_name = serializers.CharField()
    detail = serializers.DictField()

    def to_representation(self, entry):
        return {
            "kind": entry.kind,
            "at": self.fields["at"].to_representation(entry.at),
            "id": entry.id,
            "title": entry.title,
            "by": entry.by,
            "by_name": entry.by_name,
            "detail": entry.detail,
        }


class ContactSerializer(TombstoneMixin, serializers.ModelSerializer):
    account = VisibleAccountField()
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "account",
            "account_name",
            "name",
            "title",
            "department",
            "phone",
            "mobile",
            "email",
            "wechat_id",
            "preferred_channel",
            "decision_role",
            "preferences",
            "is_primary",
            "external_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators = []
        extra_kwargs = {"external_id": {"validators": []}}


class InteractionSerializer(TombstoneMixin, serializers.ModelSerializer):
    account = VisibleAccountField()
    contact = VisibleContactField(required=False, allow_null=True)
    occurred_at = serializers.DateTimeField(required=False)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "account",
            "contact",
            "logged_by",
            "kind",
            "occurred_at",
            "subject",
            "summary",
            "outcome",
            "next_step",
            "next_step_due",
            "external_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["logged_by", "created_at", "updated_at"]
        validators = []
        extra_kwargs = {"external_id": {"validators": []}}


class FollowUpSerializer(serializers.ModelSerializer):
    account = VisibleAccountField()
    contact = VisibleContactField(required=False, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "account",
            "contact",
            "assignee",
            "title",
            "note",
            "priority",
            "due_at",
            "status",
            "done_at",
            "reminded_at",
            "interaction",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "status",
            "done_at",
            "reminded_at",
            "interaction",
            "created_at",
            "updated_at",
        ]


class SnoozeSerializer(serializers.Serializer):
    until = serializers.DateTimeField(required=False)
    days = serializers.IntegerField(required=False, min_value=1, max_value=365)
