"""A small client of the admin API for operators and scripts (``oimws admin ...``).

Standard library only (urllib): it talks to a running gateway like any OpenIM backend would.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
import uuid
from typing import Any


class AdminCallError(Exception):
    """The call did not succeed: the API refused it (``err_code`` set) or was unreachable."""

    def __init__(self, path: str, message: str, err_code: int | None = None) -> None:
        super().__init__(f"POST {path}: {message}")
        self.err_code = err_code


class AdminClient:
    def __init__(self, api_url: str, secret: str, admin_user_id: str = "imAdmin", *,
                 insecure: bool = False, timeout: float = 10.0) -> None:
        self.api_url = api_url.rstrip("/")
        self._secret = secret
        self._admin_user_id = admin_user_id
        self._timeout = timeout
        # --insecure: accept a self-signed certificate (a gateway started with --tls-cert)
        self._ssl = ssl._create_unverified_context() if insecure else None
        self._token: str | None = None

    def call(self, path: str, body: dict[str, Any], *, token: str | None = None) -> Any:
        """POST ``body`` to ``path``; returns the envelope's ``data``."""
        headers = {"Content-Type": "application/json", "operationID": uuid.uuid4().hex}
        if token:
            headers["token"] = token
        request = urllib.request.Request(self.api_url + path, data=json.dumps(body).encode(),
                                         headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout,
                                        context=self._ssl) as response:
                envelope = json.load(response)
        except urllib.error.HTTPError as exc:
            raise AdminCallError(path, f"HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise AdminCallError(path, f"cannot reach {self.api_url}: {exc}") from None
        if not isinstance(envelope, dict) or envelope.get("errCode") != 0:
            code = envelope.get("errCode") if isinstance(envelope, dict) else None
            message = envelope.get("errMsg") if isinstance(envelope, dict) else envelope
            raise AdminCallError(path, f"errCode {code}: {message}", code)
        return envelope.get("data")

    def admin_call(self, path: str, body: dict[str, Any]) -> Any:
        """``call`` with an admin token (fetched with the secret once)."""
        if self._token is None:
            data = self.call("/auth/get_admin_token",
                             {"secret": self._secret, "userID": self._admin_user_id})
            self._token = data["token"]
        return self.call(path, body, token=self._token)

    # the common operations
    def register(self, user_ids: list[str], nickname: str = "", face_url: str = "") -> None:
        users = [{"userID": u, "nickname": nickname or u, "faceURL": face_url}
                 for u in user_ids]
        self.admin_call("/user/user_register", {"users": users})

    def user_token(self, user_id: str, platform_id: int) -> str:
        data = self.admin_call("/auth/get_user_token",
                               {"userID": user_id, "platformID": platform_id})
        return str(data["token"])

    def send_text(self, send_id: str, text: str, *, recv_id: str = "", group_id: str = "",
                  online_only: bool = False) -> Any:
        return self.admin_call("/msg/send_msg", {
            "sendID": send_id, "recvID": recv_id, "groupID": group_id,
            "sessionType": 3 if group_id else 1, "contentType": 101,
            "content": {"content": text}, "isOnlineOnly": online_only})

    def force_logout(self, user_id: str, platform_id: int) -> None:
        self.admin_call("/auth/force_logout", {"userID": user_id, "platformID": platform_id})
