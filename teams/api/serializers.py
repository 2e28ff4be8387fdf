from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from teams.models import LadderLevel, Notification, Team, User


class LadderLevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = LadderLevel
        fields = ["id", "rank", "code", "name", "name_zh", "description"]


class TeamBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]


class UserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(
        write_only=True, required=False, style={"input_type": "password"}
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "password",
            "first_name",
            "last_name",
            "email",
            "phone",
            "team",
            "role",
            "ladder_level",
            "hire_date",
            "preferred_language",
            "is_active",
            "updated_at",
        ]
        read_only_fields = ["is_active", "updated_at"]

    def validate_password(self, value):
        validate_password(value)
        return value


class ProfileSerializer(serializers.ModelSerializer):
    """What a user may change about themselves. Any other field sent is refused."""

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "phone",
            "preferred_language",
            "team",
            "role",
            "ladder_level",
        ]
        read_only_fields = ["id", "username", "team", "role", "ladder_level"]

    def validate(self, attrs):
        refused = sorted(
            set(self.initial_data)
            - {name for name, field in self.fields.items() if not field.read_only}
        )
        if refused:
            raise serializers.ValidationError(
                {name: [_("You cannot change this field yourself.")] for name in refused}
            )
        return attrs


class TeamSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Team
        fields = [
            "id",
            "name",
            "parent",
            "manager",
            "region",
            "depth",
            "member_count",
            "updated_at",
        ]
        read_only_fields = ["depth", "updated_at"]


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "link", "created_at", "read_at"]
        read_only_fields = fields
