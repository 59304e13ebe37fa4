"""The user side of the adapter, through the real PTB client and the fake Bot API:
start-up, private messages in, replies out (splitting, escaping, buttons, typing), faults."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.adapters.telegram.render import MAX_MESSAGE, utf16_len
from bot.core.commands import USER_COMMANDS
from bot.core.types import Button, Inbound, InboundKind, Outbound, OutboundKind, Platform, UserRef
from bot.errors import DeliveryError, UserUnreachable
from tests.e2e.telegram.conftest import ANA, GROUP, SAM, StartAdapter, telegram_settings
from tests.e2e.telegram.fake_api import FakeBotApi
from tests.support.recording_core import RecordingCore

# PTB's own RetryAfter constructor warns about a future type change of retry_after.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")


def to_user(person: dict[str, object], text: str, *buttons: Button, kind: OutboundKind = OutboundKind.REPLY) -> Outbound:
    user_id = str(person["id"])
    return Outbound(UserRef(Platform.TELEGRAM, user_id), user_id, kind, text, tuple(buttons))


async def test_start_publishes_menus_and_receives_then_stops_cleanly(
    fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path
) -> None:
    core = RecordingCore()
    adapter = await start_adapter(telegram_settings(fake, tmp_path), core)

    await fake.wait_for(lambda: fake.calls_of("getUpdates"))
    methods = [c.method for c in fake.calls]
    assert methods[0] == "getMe" and methods.index("deleteWebhook") < methods.index("getUpdates")
    assert "getChat" in methods  # the moderator group's forum status
    for language in ("", "en", "fr", "es"):
        published = fake.commands[("all_private_chats", language)]
        expected = [(spec.command.value, spec.description(language or "en")) for spec in USER_COMMANDS]
        assert [(c["command"], c["description"]) for c in published] == expected
    assert fake.commands[("all_private_chats", "fr")][0]["description"].startswith("Commencer")

    await fake.private_text(SAM, "hello")
    await core.wait_for(lambda: core.inbounds)
    await adapter.stop()
    polls = len(fake.calls_of("getUpdates"))
    await asyncio.sleep(0.3)
    assert len(fake.calls_of("getUpdates")) == polls, "still polling after stop()"
    await adapter.stop()  # idempotent


async def test_private_messages_become_inbound_and_other_chats_are_ignored(
    fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path
) -> None:
    core = RecordingCore()
    await start_adapter(telegram_settings(fake, tmp_path), core)
    fake.add_group(-100999, "some other group", forum=False)

    await fake.group_text(-100999, SAM, "hi group")
    await fake.group_text(GROUP, SAM, "not a reply to anything")
    sent = await fake.private_text(SAM, "/start")
    await fake.private_sticker(ANA)
    await core.wait_for(lambda: len(core.inbounds) == 2)
    await asyncio.sleep(0.2)

    text, sticker = core.inbounds
    assert len(core.inbounds) == 2 and core.texts == []
    assert text.user == UserRef(Platform.TELEGRAM, "1001") and text.chat_ref == "1001"
    assert (text.text, text.kind, text.locale, text.display_name) == ("/start", InboundKind.TEXT, "fr", "Sam")
    assert int(text.received_at.timestamp()) == sent.date and text.received_at.tzinfo is not None
    assert (sticker.text, sticker.kind, sticker.locale) == ("", InboundKind.NON_TEXT, "es")


async def test_long_reply_is_split_at_paragraphs_and_nothing_is_rendered(
    fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path
) -> None:
    adapter = await start_adapter(telegram_settings(fake, tmp_path), RecordingCore())
    paragraphs = [(f"Paragraph {i}: " + "a calm sentence about breathing. " * 40).rstrip() for i in range(8)]
    markup = "<b>not bold</b> *not bold* _not italic_ [not a link](http://evil.example) &amp; @someone_else"
    text = "\n\n".join(paragraphs[:4] + [markup] + paragraphs[4:])

    await adapter.send(to_user(SAM, text, Button("Agree", "/agree"), Button("Decline", "/decline")))

    pieces = fake.sent(SAM["id"])
    assert len(pieces) >= 3 and all(utf16_len(p.text or "") <= MAX_MESSAGE for p in pieces)
    assert "\n\n".join(p.text or "" for p in pieces) == text, "splitting lost or changed text"
    assert all(p.text is not None and p.text.startswith("Paragraph") or p.text == markup for p in pieces)
    assert [p.reply_markup is not None for p in pieces] == [False] * (len(pieces) - 1) + [True]
    assert pieces[-1].buttons() == [("Agree", "/agree"), ("Decline", "/decline")]
    assert all("parse_mode" not in c.params for c in fake.calls_of("sendMessage"))
    styles = {"bold", "italic", "underline", "strikethrough", "text_link", "code", "pre", "spoiler", "blockquote"}
    assert {e["type"] for p in pieces for e in p.entities} & styles == set(), "user text rendered as markup"


async def test_emoji_heavy_text_respects_the_utf16_limit(fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path) -> None:
    adapter = await start_adapter(telegram_settings(fake, tmp_path), RecordingCore())
    text = "🌱" * 5000  # 10000 UTF-16 units, no spaces to split at
    await adapter.send(to_user(SAM, text))
    pieces = [p.text or "" for p in fake.sent(SAM["id"])]
    assert "".join(pieces) == text and all(utf16_len(p) <= MAX_MESSAGE for p in pieces) and len(pieces) == 3


async def test_button_press_is_answered_and_becomes_the_command(
    fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path
) -> None:
    core = RecordingCore()
    adapter = await start_adapter(telegram_settings(fake, tmp_path), core)
    await adapter.send(to_user(SAM, "Do you agree?", Button("Agree", "/agree"), kind=OutboundKind.NOTICE))
    notice = fake.sent(SAM["id"])[-1]

    query = await fake.press(SAM, notice, "/agree")
    await core.wait_for(lambda: core.inbounds)
    await fake.wait_for(lambda: query in fake.answers)

    pressed = core.inbounds[0]
    assert (pressed.text, pressed.kind, pressed.chat_ref, pressed.locale) == ("/agree", InboundKind.TEXT, "1001", "fr")
    assert fake.answers[query] == {"text": None, "show_alert": False}


async def test_typing_shows_the_chat_action(fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path) -> None:
    adapter = await start_adapter(telegram_settings(fake, tmp_path), RecordingCore())
    await adapter.typing(str(SAM["id"]))
    assert [c.params for c in fake.calls_of("sendChatAction")] == [{"chat_id": SAM["id"], "action": "typing"}]


async def test_rate_limit_is_waited_out_and_the_message_delivered_once(
    fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path
) -> None:
    adapter = await start_adapter(telegram_settings(fake, tmp_path), RecordingCore())
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)

    began = time.monotonic()
    await adapter.send(to_user(SAM, "You are not alone."))
    waited = time.monotonic() - began

    attempts = fake.calls_of("sendMessage", ok=None)
    assert [c.status for c in attempts] == [429, 200]
    assert [m.text for m in fake.sent(SAM["id"])] == ["You are not alone."]
    assert waited >= 1.0, "the client did not honour retry_after"


async def test_server_errors_are_retried_with_backoff(fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path) -> None:
    adapter = await start_adapter(telegram_settings(fake, tmp_path), RecordingCore())
    fake.fail_next("sendMessage", 502, "Bad Gateway", times=2)
    await adapter.send(to_user(SAM, "Still here."))
    assert [c.status for c in fake.calls_of("sendMessage", ok=None)] == [502, 502, 200]
    assert [m.text for m in fake.sent(SAM["id"])] == ["Still here."]

    fake.fail_next("sendMessage", 500, "Internal Server Error", times=3)
    with pytest.raises(DeliveryError) as failed:
        await adapter.send(to_user(SAM, "Lost?"))
    assert not isinstance(failed.value, UserUnreachable) and "Lost?" not in str(failed.value)


async def test_blocked_user_is_unreachable_and_typing_never_raises(
    fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path
) -> None:
    adapter = await start_adapter(telegram_settings(fake, tmp_path), RecordingCore())
    fake.block(SAM["id"])
    with pytest.raises(UserUnreachable):
        await adapter.send(to_user(SAM, "Are you there?"))
    await adapter.typing(str(SAM["id"]))
    await adapter.typing("not-a-chat")
    assert len(fake.calls_of("sendMessage", ok=None)) == 1, "a 403 must not be retried"


async def test_a_slow_handler_finishes_before_stop_returns(
    fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path
) -> None:
    adapter_box: list[object] = []

    async def slow_reply(inbound: Inbound) -> None:
        await asyncio.sleep(0.5)
        await adapter_box[0].send(to_user(SAM, "answer after a slow turn"))  # type: ignore[attr-defined]

    core = RecordingCore(on_handle=slow_reply)
    adapter = await start_adapter(telegram_settings(fake, tmp_path), core)
    adapter_box.append(adapter)
    await fake.private_text(SAM, "a message the bot is still answering at shutdown")
    await core.wait_for(lambda: core.inbounds)
    await adapter.stop()
    assert [m.text for m in fake.sent(SAM["id"])] == ["answer after a slow turn"]


async def test_messages_sent_while_the_bot_was_down_are_handled(
    fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path
) -> None:
    await fake.private_text(SAM, "written while the bot was offline")
    core = RecordingCore()
    await start_adapter(telegram_settings(fake, tmp_path), core)
    await core.wait_for(lambda: core.inbounds)
    assert core.inbounds[0].text == "written while the bot was offline"
    assert all(not c.params.get("drop_pending_updates") for c in fake.calls_of("deleteWebhook"))


async def test_webhook_mode_receives_updates_by_post(fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = telegram_settings(
        fake,
        tmp_path,
        telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/hook",
        telegram_webhook_listen="127.0.0.1",
        telegram_webhook_port=port,
    )
    core = RecordingCore()
    await start_adapter(settings, core)
    assert fake.webhook is not None and fake.webhook["url"].endswith("/telegram/hook")
    assert fake.webhook["secret_token"] and len(fake.webhook["secret_token"]) >= 32

    await fake.private_text(ANA, "hola")
    await core.wait_for(lambda: core.inbounds)
    assert (core.inbounds[0].text, core.inbounds[0].locale) == ("hola", "es")
    assert fake.calls_of("getUpdates", ok=None) == []


async def test_refused_token_is_a_config_error(fake: FakeBotApi, tmp_path: Path) -> None:
    from bot.adapters.telegram_bot import TelegramAdapter
    from bot.errors import ConfigError

    settings = telegram_settings(fake, tmp_path, telegram_token="999:wrong")
    with pytest.raises(ConfigError, match="TELEGRAM_TOKEN"):
        await TelegramAdapter(settings, RecordingCore()).start()

