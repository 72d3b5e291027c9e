"""`python -m flows.notify URL` (`make notify URL=...`): a failed or crashed weekly-digest run
POSTs its one line to URL. Two Prefect objects on the server the project's Prefect settings name:
a custom-webhook notification block (`top5-failed-run`) and an automation (`weekly-digest failed`)
that sends it when a run of the flow ends Failed or Crashed. Run again to change the URL: both are
replaced, never doubled.

The webhook receives JSON {"text": "<subject>\\n<body>", "title": "top5-failed-run"}: Slack,
Mattermost and most chat webhooks take `text`. The body is the run's state message: the same
line the run's page shows at its top.
"""

from __future__ import annotations

import sys

BLOCK = "top5-failed-run"
AUTOMATION = "weekly-digest failed"
FLOW = "weekly-digest"
SUBJECT = "weekly-top5: the {{ flow.name }} run {{ flow_run.name }} ended {{ flow_run.state.name }}"
BODY = "{{ flow_run.state.message }}\n{{ flow_run|ui_url }}"


def set_up(url: str) -> str:
    """Saves the webhook block for `url` and (re)creates the automation; returns one line saying
    so. Raises ConfigError for a URL that is not http(s); Prefect's own errors when its server
    cannot be reached."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.client.orchestration import get_client
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    from flows.errors import ConfigError

    if not url.startswith(("http://", "https://")):
        raise ConfigError("URL: the webhook must be an http:// or https:// address")
    block = CustomWebhookNotificationBlock(name=BLOCK, url=url, json_data={"text": "{{subject}}\n{{body}}",
                                                                           "title": "{{name}}"})
    block_id = block.save(BLOCK, overwrite=True)
    trigger = EventTrigger(expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
                           match={"prefect.resource.id": "prefect.flow-run.*"},
                           match_related={"prefect.resource.role": "flow", "prefect.resource.name": FLOW},
                           posture=Posture.Reactive, threshold=1)
    with get_client(sync_client=True) as client:
        for old in client.read_automations_by_name(AUTOMATION):
            client.delete_automation(old.id)
        client.create_automation(AutomationCore(
            name=AUTOMATION, description="POST the one line of a failed weekly-digest run to the editor's webhook",
            trigger=trigger, actions=[SendNotification(block_document_id=block_id, subject=SUBJECT, body=BODY)]))
    return f"a failed or crashed {FLOW} run now notifies the webhook (block {BLOCK!r}, automation {AUTOMATION!r})"


def main(argv: list[str] | None = None) -> int:
    from flows.errors import Top5Error

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m flows.notify URL   (or: make notify URL=...)", file=sys.stderr)
        return 2
    try:
        print(set_up(args[0]))
    except Top5Error as exc:
        print(f"notify: {exc.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
