"""Index a signed-in person's session keys (scim.models.SessionRecord), so that deprovisioning can
end every session of that person at once without decoding all sessions (decision 1821).

A session is recorded when someone signs in (the `user_logged_in` signal, inside the sign-in
request), and again by the middleware whenever its key changes without a sign-in (a password
change rotates it) or it predates this index: the key last recorded is remembered inside the
session itself, so an indexed session costs nothing (no query) on later requests."""

from .models import SessionRecord

MARK = "_scim_indexed_key"


def session_index(*, user_id: int, session) -> None:
    SessionRecord.objects.bulk_create([SessionRecord(user_id=user_id, session_key=session.session_key)],
                                      ignore_conflicts=True)
    session[MARK] = session.session_key


def on_login(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if session is not None and session.session_key and user is not None:
        session_index(user_id=user.pk, session=session)


class SessionIndexMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # request.user is set by AuthenticationMiddleware (a session sign-in); a token call has no
        # session key and is skipped.
        user = getattr(request, "user", None)
        if session is None or user is None or not session.session_key:
            return response
        if session.get(MARK) == session.session_key or not user.is_authenticated:
            return response
        session_index(user_id=user.pk, session=session)
        return response
