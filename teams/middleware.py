from django.utils import translation

from teams.selectors import remembered_visibility


class UserLanguageMiddleware:
    """Serves each signed-in user in the language they chose, on every device."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.preferred_language:
            translation.activate(user.preferred_language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class VisibilityMemoMiddleware:
    """Remembers, for the length of one request, which teams each viewer manages, so the
    visibility rule costs one query per request however often it is applied."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with remembered_visibility():
            return self.get_response(request)
