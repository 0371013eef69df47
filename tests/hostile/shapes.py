"""Crafted mail a stranger can send a public support address: each shape once made some stage slow,
crash or misbehave. The hostile-mail tests feed them through parse, extract and categorize (and
through real workers) and measure what each costs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

SIZE = 64 * 1024  # each pathological run of text is this long


def _mail(headers: str, body: str) -> bytes:
    return (headers.rstrip("\n") + "\nTo: support@example.com\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n\n" + body).encode("utf-8", "surrogateescape")  # fmt: skip


def _nested(depth: int) -> bytes:
    parts = [
        "From: Nora Nest <nora@example.com>\nSubject: nested\nMessage-ID: <nest@example.com>\nMIME-Version: 1.0\n"
    ]
    for level in range(depth):
        parts.append(f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n')
    parts.append("Content-Type: text/plain\n\nhello from the bottom\n")
    parts.extend(f"--b{level}--\n" for level in reversed(range(depth)))
    return "".join(parts).encode()


def _many_parts(count: int) -> bytes:
    head = ('From: Paul Parts <paul@example.com>\nSubject: many parts\nMessage-ID: <parts@example.com>\n'
            'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="p"\n\n')  # fmt: skip
    part = "--p\nContent-Type: text/plain\n\nx\n"
    return (
        head + "--p\nContent-Type: text/plain\n\nmy account is broken\n" + part * count + "--p--\n"
    ).encode()


@dataclass(frozen=True)
class Shape:
    """One crafted message and what it attacks."""

    name: str
    attacks: str
    raw: Callable[[], bytes]
    outcome: str = "ticket"  # what it should become: a ticket, or quarantined (with a reason)


SHAPES = [
    Shape("order-then-spaces", "order/invoice id patterns (cubic in whitespace)",
          lambda: _mail("From: Sam <sam@example.com>\nSubject: my order\nMessage-ID: <s1@example.com>",
                        "my order" + " " * SIZE + "x\ninvoice" + " " * SIZE + "x\n")),
    Shape("from-without-at", "the From parser (quadratic without '@')",
          lambda: _mail("From: " + "a" * SIZE + "\nSubject: hi\nMessage-ID: <s2@example.com>", "hello\n"),
          outcome="quarantined"),
    Shape("repeated-warning-subject", "the bounce subject rule (quadratic on repeats)",
          lambda: _mail("From: Wanda <wanda@example.com>\nSubject: " + "warning: message " * (SIZE // 17)
                        + "\nMessage-ID: <s3@example.com>", "hello\n")),
    Shape("wrote-then-blank-lines", "quoted-reply trimming (quadratic in lines)",
          lambda: _mail("From: Otto <otto@example.com>\nSubject: re\nMessage-ID: <s4@example.com>",
                        "new text\nOn Mon, 1 Jan 2024, Bob wrote:\n" + "\n" * SIZE + "> quoted\n")),
    Shape("long-header", "header handling (a 64 KB header)",
          lambda: _mail("From: Hal <hal@example.com>\nSubject: " + "x" * SIZE + "\nMessage-ID: <s5@example.com>",
                        "hello\n")),
    Shape("deep-nesting", "the MIME walk (RecursionError at 5,000 levels)", lambda: _nested(5000)),
    Shape("many-parts", "the MIME walk (10,000 parts)", lambda: _many_parts(10_000)),
    Shape("idna-charset", "charset handling (an idna part quarantined the message)",
          lambda: _mail("From: Ida <ida@example.com>\nSubject: charset\nMessage-ID: <s8@example.com>", "hello\n")
          .replace(b"charset=utf-8", b"charset=idna")),
    Shape("control-characters", "Jira fields (NUL and control characters)",
          lambda: _mail("From: Carl <carl@example.com>\nSubject: bad\x00 subject\x07 here\nMessage-ID: <s9@example.com>",
                        "my invoice\x00 is wrong\x1b[31m\n")),
]  # fmt: skip


def _body_of(name: str, content_type: str, body: bytes) -> bytes:
    head = (
        f"From: Mal <mal@example.com>\nSubject: {name}\nMessage-ID: <{name}@example.com>\nMIME-Version: 1.0\n"
        f"Content-Type: {content_type}\n\n"
    )
    return head.encode() + body


def _invented_charsets(name: str, size: int) -> bytes:
    """400 parts, each in a charset of its own invented name (size / 400 bytes long): each name used to
    stay in the codec cache for good."""
    name_len = size // 400 - 60
    parts = b"".join(
        b"--c\nContent-Type: text/plain; charset=x-invented-%d-" % i + b"z" * name_len + b"\n\nhello\n"
        for i in range(400)
    )
    return _body_of(
        name,
        'multipart/mixed; boundary="c"',
        b"--c\nContent-Type: text/plain\n\nmy invoice\n" + parts + b"--c--\n",
    )


def _large(size: int) -> list[Shape]:
    """The shapes of round 3 at `size` bytes: what the standard library did in quadratic time (HTMLParser
    on constructs that never end, the punycode codec) or kept for good (invented charset names)."""
    mb = f"{size // 1_000_000}mb"
    html = "text/html; charset=utf-8"
    return [
        Shape(
            f"html-comment-openers-{mb}",
            "HTMLParser (quadratic: 1 MB took 13 min)",
            lambda: _body_of(f"comments{mb}", html, b"<p>my invoice</p>" + b"<!--" * (size // 4)),
        ),
        Shape(
            f"html-open-tags-{mb}",
            "HTMLParser (quadratic on `<a ` that never ends)",
            lambda: _body_of(f"tags{mb}", html, b"<p>my invoice</p>" + b"<a " * (size // 3)),
        ),
        Shape(
            f"punycode-body-{mb}",
            "the punycode codec (quadratic)",
            lambda: _body_of(f"puny{mb}", "text/plain; charset=punycode", b"my invoice " + b"a" * size),
        ),
        Shape(
            f"invented-charsets-{mb}",
            "the codec cache (400 invented names kept for good)",
            lambda: _invented_charsets(f"charsets{mb}", size),
        ),
        Shape(
            f"many-lines-{mb}",
            "the MIME parser (a body of short lines)",
            lambda: _body_of(
                f"lines{mb}", "text/plain; charset=utf-8", b"my invoice\n" + b"a\n" * (size // 2)
            ),
        ),
    ]


LARGE_SHAPES = _large(1_000_000) + _large(10_000_000)
