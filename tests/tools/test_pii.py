"""Personal data stays home (TRIAGE_LLM_REDACT=on): what reaches the model holds placeholders, the same
person the same one across requests, and the answer has them put back, however the model wrote them;
through the real openai client against a local server; and the share of personal values that still
reach the model, measured on the corpora and the sample mailbox."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from agent.llm_planner import ticket_for_prompt
from inbox.parse import Unparseable, parse_message
from inbox.ticket import Ticket
from tests.llm_server import FakeOpenAI, running_openai
from tests.support import CORPORA, SAMPLE_MAILBOX, llm_config
from tools.base import ToolContext
from tools.extract import extract_entities
from tools.llm_client import OpenAICompatibleLLM
from tools.names import find_customer_name
from tools.pii import Redaction, Redactor

ACCOUNT = r"\bACC[-_ ]?\d{4,10}\b"
REDACTOR = Redactor(ACCOUNT)
PERSONAL = {
    "name": "Jane Doe",
    "colleague": "Mr. Okafor",
    "email": "jane.doe@example.com",
    "other email": "billing-team@acme.co.uk",
    "phone": "+44 20 7946 0958",
    "iban": "DE89 3704 0044 0532 0130 00",
    "card": "4111 1111 1111 1111",
    "account": "ACC-12345",
    "street": "221B Baker Street",
    "german street": "Hauptstraße 12",
}
BODY = (
    "Hi,\nI was charged twice. My IBAN is DE89 3704 0044 0532 0130 00, the card 4111 1111 1111 1111.\n"
    "Call me on +44 20 7946 0958 or write to billing-team@acme.co.uk. Account ACC-12345.\n"
    "Ship to 221B Baker Street, London, or to our office at Hauptstraße 12, Berlin.\n"
    "My colleague Mr. Okafor agrees. Order 00123842.\n\nThanks,\nJane"
)


def ticket(body: str = BODY, sender_name: str = "Jane Doe", signature: str = "Jane Doe\nAcme Ltd") -> Ticket:
    fields = {"id": "T1", "message_id": "m@x", "subject": "Refund please", "sender": "jane.doe@example.com"}
    return Ticket.model_validate(
        fields
        | {
            "sender_name": sender_name,
            "body": body,
            "signature": signature,
            "received_at": datetime.now(UTC),
            "size": 0,
        }
    )


def plan_messages(t: Ticket) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "Plan the steps."},
        {"role": "user", "content": ticket_for_prompt(t)},
    ]


def test_what_goes_to_the_model_has_a_placeholder_for_each_kind_of_personal_value() -> None:
    sent, redaction = REDACTOR.redact(plan_messages(ticket()))
    text = json.dumps(sent)
    assert [kind for kind, value in PERSONAL.items() if value in text] == []
    for kind in ("PERSON", "EMAIL", "PHONE", "IBAN", "CARD", "ACCOUNT", "ADDRESS"):
        assert f"<{kind}_1>" in text
    assert "00123842" in text and "London" in text  # an order number and a city are no one's data
    assert redaction.value_of["<PERSON_1>"] == "Jane Doe"
    assert "Thanks,\\n<PERSON_1>" in sent[1]["content"]  # "Jane" alone is hers too


def test_the_same_person_has_the_same_placeholder_in_the_plan_and_the_observers_look() -> None:
    t = ticket()
    _, plan = REDACTOR.redact(plan_messages(t))
    results = json.dumps(
        [{"id": "extract", "result": {"customer_name": "Jane Doe", "account_id": "ACC12345"}}]
    )
    look = [
        {"role": "system", "content": "Look at the results. Example: Bob Stone <bob@example.org>."},
        {"role": "user", "content": f"{ticket_for_prompt(t)}\n<results>\n{results}\n</results>"},
        {"role": "user", "content": json.dumps({"street": "Hauptstraße 12"})},  # ensure_ascii: \u00df
    ]
    sent, observed = REDACTOR.redact(look)
    for placeholder in ("<PERSON_1>", "<EMAIL_1>", "<IBAN_1>", "<ACCOUNT_1>"):
        assert plan.value_of[placeholder] == observed.value_of[placeholder]
    assert "Jane" not in json.dumps(sent)


def test_a_placeholder_the_model_altered_is_restored_and_one_it_invented_is_left_as_written() -> None:
    redaction = Redaction()
    redaction.add("PERSON", "Zoë O'Neil")
    redaction.add("CARD", "4111 1111 1111 1111")
    answer = {"a": "<PERSON_1>", "b": "[person-1]", "c": "{PERSON 1}", "d": "PERSON_1", "e": "<PERSON_7>"}
    restored = json.loads(redaction.restore(json.dumps(answer | {"f": "pay with card 1 of 2"})))
    zoe = "Zoë O'Neil"
    assert restored == {
        "a": zoe,
        "b": zoe,
        "c": zoe,
        "d": zoe,
        "e": "<PERSON_7>",
        "f": "pay with card 1 of 2",
    }


def test_a_value_written_back_to_the_model_in_a_repair_goes_as_its_placeholder_again() -> None:
    messages = plan_messages(ticket())
    repair = {
        "role": "user",
        "content": 'Your plan {"customer": "Jane Doe", "to": "jane.doe@example.com"} is wrong',
    }
    sent, _ = REDACTOR.redact([*messages, {"role": "assistant", "content": "{}"}, repair])
    assert "Jane Doe" not in sent[-1]["content"] and "jane.doe@example.com" not in sent[-1]["content"]


def analysis_in_placeholders(request: dict[str, Any]) -> str:
    """A model that answers with the placeholders it was shown."""
    prompt = request["messages"][1]["content"]
    person = re.search(r'"sender_name": "(<PERSON_\d+>)"', prompt)
    account = re.search(r"<ACCOUNT_\d+>", prompt)
    found = {"customer_name": person and person.group(1), "account_id": account and account.group(0)}
    return json.dumps({"category": "billing", "confidence": 0.9, "urgency": "medium"} | found)


def test_through_the_real_client_the_server_sees_placeholders_and_the_tools_read_the_real_values(
    ctx: ToolContext,
) -> None:
    with running_openai(FakeOpenAI(default=analysis_in_placeholders)) as server:
        config = llm_config(base_url=server.url, api_key="k", model="m", max_transport_retries=0)
        llm = OpenAICompatibleLLM(config, redactor=REDACTOR)
        t = ticket(signature="")
        email = {"subject": t.subject, "body": t.body, "signature": t.signature, "sender_name": t.sender_name}
        found = extract_entities.run(email, ctx.__class__(**{**vars(ctx), "llm": llm}))
        asked = json.dumps(server.requests)
    assert [kind for kind, value in PERSONAL.items() if value in asked] == []
    assert (found.customer_name, found.account_id) == ("Jane Doe", "ACC12345")


def test_a_redactor_that_fails_sends_nothing(ctx: ToolContext) -> None:
    class Broken(Redactor):
        def redact(self, messages: list[dict[str, str]]) -> Any:
            raise RuntimeError("no analyzer")

    with running_openai(FakeOpenAI(default=analysis_in_placeholders)) as server:
        config = llm_config(base_url=server.url, api_key="k", model="m", max_transport_retries=0)
        with pytest.raises(Exception, match="redaction failed, nothing sent"):
            OpenAICompatibleLLM(config, redactor=Broken(ACCOUNT)).complete(plan_messages(ticket()), {}, "x")
        assert server.requests == []


def share_leaked(pairs: list[tuple[Ticket, list[str]]]) -> tuple[int, int, list[str]]:
    """How many of the values reached the model in clear, of how many, and which."""
    leaked, total = [], 0
    for t, values in pairs:
        sent = json.dumps(REDACTOR.redact(plan_messages(t))[0]).casefold()
        total += len(values)
        leaked += [v for v in values if v.casefold() in sent]
    return len(leaked), total, leaked


BITEXT = CORPORA / "bitext-customer-support" / "dev.csv"


@pytest.mark.skipif(not BITEXT.exists(), reason=f"the Bitext corpus is not beside the project ({BITEXT})")
def test_person_names_of_the_bitext_corpus_do_not_reach_the_model() -> None:
    rows = [r for r in csv.DictReader(BITEXT.open()) if r["entity_type"] == "person_name"]
    pairs = [(ticket(body=r["instruction"], sender_name="", signature=""), [r["entity_value"]]) for r in rows]
    leaked, total, which = share_leaked(pairs)
    print(f"Bitext person names that reached the model: {leaked} of {total} ({leaked / total:.1%})")
    assert total >= 80 and leaked / total <= 0.02, which


def sample_mailbox() -> list[tuple[Ticket, list[str]]]:
    """The sample mailbox's tickets, each with its personal values: the sender's address, every e-mail
    address and account id in the text, and the customer's name as the extractor reads it."""
    pairs = []
    for path in sorted((SAMPLE_MAILBOX / "cur").iterdir()):
        try:
            t = parse_message(path.read_bytes(), max_bytes=10_000_000).ticket
        except Unparseable:  # quarantined at ingest: it never reaches a model
            continue
        text = f"{t.subject}\n{t.body}\n{t.signature}"
        values = [
            t.sender,
            *re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text),
            *re.findall(ACCOUNT, text, re.I),
        ]
        name, _ = find_customer_name(t.body, t.signature, t.sender_name)
        pairs.append((t, values + ([name] if name else [])))
    return pairs


def test_nothing_personal_of_the_sample_mailbox_reaches_the_model() -> None:
    pairs = sample_mailbox()
    leaked, total, which = share_leaked(pairs)
    print(f"sample mailbox: personal values that reached the model: {leaked} of {total}")
    assert len(pairs) >= 14 and total >= 30 and leaked == 0, which


# Held out: names where people put them, not the corpus's shapes. The extractor's shapes (signature,
# closing line, introduction, From line, a title, "from First Last") must never leak; the rest is
# measured and stated (no NER model runs: spaCy's are not on PyPI, and nothing is fetched at run time).
PROMISED = [
    ("Order missing", "Hi, my order never came.\n\nBest regards,\nTomasz Nowak", "", "", "Tomasz Nowak"),
    ("Invoice", "Hello,\nwrong VAT on the invoice.", "Aiko Tanaka\nFinance, Kettle Ltd", "", "Aiko Tanaka"),
    ("Login", "My name is Priya Raman and I cannot log in.", "", "", "Priya Raman"),
    ("Refund", "Please refund the duplicate charge.", "", "Lucía Fernández", "Lucía Fernández"),
    ("Contract", "I spoke to Mrs. Abernathy about the renewal.", "", "", "Mrs. Abernathy"),
    ("Bill", "I need the bill from Anna Freeman, our old accountant.", "", "", "Anna Freeman"),
    ("Thanks", "It works now.\n\nThanks, Grace Hopper", "", "", "Grace Hopper"),
    ("Mit Gruß", "Die Rechnung ist falsch.\n\nMit freundlichen Grüßen\nJürgen Weiß", "", "", "Jürgen Weiß"),
]
ELSEWHERE = [
    ("Access", "Please give my colleague Laura Chen access too.", "Laura Chen"),
    ("Call", "I talked with Ahmed on the phone yesterday.", "Ahmed"),
    ("Ticket", "cc: Oliver Smith, who manages our account", "Oliver Smith"),
    ("Lower case", "this is maria garcia again, still no refund", "maria garcia"),
]


def test_names_where_the_extractor_reads_them_never_reach_the_model_and_the_rest_is_measured() -> None:
    promised = [(ticket(body=b, signature=s, sender_name=n), [name]) for _, b, s, n, name in PROMISED]
    leaked, total, which = share_leaked(promised)
    assert leaked == 0, which
    elsewhere = [(ticket(body=b, signature="", sender_name=""), [name]) for _, b, name in ELSEWHERE]
    other, others, seen = share_leaked(elsewhere)
    said = f"{other} of {others} elsewhere ({', '.join(seen)})"
    print(
        f"held-out names that reached the model: {leaked} of {total} where the extractor reads them, {said}"
    )
