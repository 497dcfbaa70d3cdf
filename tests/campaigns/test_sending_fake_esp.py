"""The fake ESP itself: its HTTP control API, the dev inbox and the Postmark-shaped answers."""

from __future__ import annotations

import requests

from tests.fake_esp import FakeESP


def post_email(esp: FakeESP, to: str, *, token: str = "t") -> requests.Response:
    body = {
        "From": "shop@example.test",
        "To": to,
        "Subject": "Hello <you>",
        "HtmlBody": "<p>Hi</p>",
        "TextBody": "Hi",
        "Metadata": {"message_id": "7"},
        "Headers": [{"Name": "List-Id", "Value": "<x.example>"}],
    }
    return requests.post(esp.url + "email", json=body, headers={"X-Postmark-Server-Token": token}, timeout=5)


def test_control_api_injects_errors_and_reports_counts_over_http():
    with FakeESP() as esp:
        control = requests.post(esp.url + "_control", json={"fail_next": {"count": 1, "status": 429}}, timeout=5)
        assert control.json()["pending_faults"] == 1
        assert post_email(esp, "a@example.test").status_code == 429
        accepted = post_email(esp, "a@example.test")
        assert accepted.status_code == 200
        assert accepted.json()["ErrorCode"] == 0 and accepted.json()["To"] == "a@example.test"

        requests.post(esp.url + "_control", json={"recipient_errors": {"b@example.test": 406}}, timeout=5)
        refused = post_email(esp, "b@example.test")
        assert refused.status_code == 422 and refused.json()["ErrorCode"] == 406
        assert "inactive addresses: b@example.test." in refused.json()["Message"]

        stats = requests.get(esp.url + "_stats", timeout=5).json()
        assert stats["recipients"] == {"a@example.test": 1}
        assert stats["errors"] == {"429": 1, "406": 1}
        [kept] = requests.get(esp.url + "_messages", timeout=5).json()
        assert kept["Headers"] == {"List-Id": "<x.example>"} and kept["Metadata"] == {"message_id": "7"}

        search = requests.get(
            esp.url + "messages/outbound",
            params={"count": 10, "offset": 0, "metadata_message_id": "7"},
            headers={"X-Postmark-Server-Token": "t"},
            timeout=5,
        ).json()
        assert search["TotalCount"] == 1 and search["Messages"][0]["MessageID"] == kept["MessageID"]

        requests.post(esp.url + "_reset", timeout=5)
        assert requests.get(esp.url + "_stats", timeout=5).json()["accepted"] == 0


def test_missing_or_wrong_token_is_refused_like_postmark():
    with FakeESP(token="right") as esp:
        assert post_email(esp, "a@example.test", token="wrong").status_code == 401
        assert post_email(esp, "a@example.test", token="right").status_code == 200


def test_dev_inbox_lists_received_mail_and_shows_each_escaped():
    with FakeESP() as esp:
        message_id = post_email(esp, "a@example.test").json()["MessageID"]
        inbox = requests.get(esp.url, timeout=5).text
        assert f"/inbox/{message_id}" in inbox and "Hello &lt;you&gt;" in inbox
        page = requests.get(esp.url + f"inbox/{message_id}", timeout=5)
        assert page.status_code == 200 and "&lt;x.example&gt;" in page.text
        assert requests.get(esp.url + "inbox/nope", timeout=5).status_code == 404
