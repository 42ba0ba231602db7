"""Index a signed-in person's session keys (scim.models.SessionRecord), so that deprovisioning can
end every session of that person at once without decoding all sessions (decision 1821).

A session is recorded the first time a response is sent for it while someone is signed in, and
again whenever its key changes (sign-in and password change rotate the key): the key last
recorded is remembered inside the session itself, so a session that is already indexed costs
nothing (no query) on later requests."""

from .models import SessionRecord

MARK = "_scim_indexed_key"


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
        SessionRecord.objects.bulk_create([SessionRecord(user_id=user.pk, session_key=session.session_key)],
                                          ignore_conflicts=True)
        session[MARK] = session.session_key
        return response
