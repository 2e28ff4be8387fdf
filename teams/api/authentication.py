from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from teams import selectors


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token sign-in (`Authorization: Token <key>`), reading the token and its user
    through teams.selectors.token_holder."""

    def authenticate_credentials(self, key):
        token = selectors.token_holder(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
