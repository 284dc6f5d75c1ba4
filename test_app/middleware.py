"""Middleware of the demo and test project."""


class ContentSecurityPolicyMiddleware:
    """Serve every response with a strict Content-Security-Policy.

    The dashboard must work without inline scripts or styles; the demo and
    the browser tests run under this policy to prove it.
    """

    policy = "default-src 'self'"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
