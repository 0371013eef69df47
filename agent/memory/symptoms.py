"""What a report of an outage says beyond its words: which part of the product it is about, whether it
tells of something that stopped working, and the language it is told in, read from the ticket's
embedding and its text (no more model calls).

Two customers rarely describe one outage alike ("checkout down", "card payments failing", "can't pay our
invoice online" are 0.36 to 0.57 alike under MiniLM; a refund question is as alike to them). What they
share is a part of the product and a malfunction: the part is, of the areas whose words the mail uses
most (agent/memory/area_words.py), the one whose few plain sentences it is nearest to; the malfunction
how much nearer the text is to sentences of things that broke than to sentences of questions, requests,
ideas and thanks. MiniLM reads meaning in English only: in another language the areas come from the
words alone and the words tell whether something broke (agent/memory/failure_words.py), as they do in
English where the model cannot tell. tools/incident_match.py weighs them. Only an embedder that reads
meaning (`semantic`) has them; hashed n-grams do not.
"""

from __future__ import annotations

import threading

import numpy as np

from agent.memory.area_words import areas_named
from agent.memory.embedding import MAX_CHARS, Embedder
from agent.memory.failure_words import reads_as_failure
from agent.memory.feature_words import feature_named
from inbox.language import detect_language
from tools.memory_port import Symptoms
from tools.names import find_customer_name

# How alike two reports of one outage are at least when they are about one area and both tell of a
# malfunction (MiniLM; examples/incidents and examples/incidents-far: README, Memory).
AREA_SIMILARITY = 0.15
# How near 0 the model's reading of a malfunction is when it cannot tell (English reports of a real
# failure read -0.04 to 0.02 as often as questions do); there the mail's words tell.
UNSURE = 0.05

# Parts of a software product customers report outages of, as customers would put a failure of each.
AREAS = {
    "sign-in": [
        "I cannot log in to my account",
        "sign-in fails, password or single sign-on does not work",
        "locked out, two-factor code rejected",
        "impossible de se connecter, mot de passe refusé",
        "Login geht nicht, Anmeldung mit Passwort fehlgeschlagen",
        "no puedo entrar en mi cuenta, la contraseña no funciona",
        "non riesco a fare il login, accesso negato",
        "não consigo entrar na conta, senha recusada",
    ],
    "payments": [
        "payment fails at checkout",
        "customers cannot pay, card payments are declined",
        "the purchase or order cannot be completed",
        "le paiement par carte échoue, impossible de payer",
        "Bezahlung mit Karte schlägt fehl, Kunden können nicht zahlen",
        "el pago con tarjeta falla, los clientes no pueden pagar",
        "il pagamento con carta non va a buon fine",
        "o pagamento com cartão falha no checkout",
    ],
    "payouts": [
        "the payout of our sales to our bank account failed",
        "settlement transfers to merchants' bank accounts are late",
        "le virement de nos encaissements n'a pas été fait",
        "die Auszahlung an unser Bankkonto ist ausgeblieben",
        "no hemos recibido la transferencia de nuestras ventas",
        "l'accredito dei nostri incassi non è stato fatto",
        "o repasse das nossas vendas não foi feito",
    ],
    "e-mail": [
        "e-mails are not delivered",
        "notifications and confirmation e-mails do not arrive",
        "outgoing messages are stuck",
        "les e-mails et notifications ne sont plus envoyés",
        "E-Mails und Benachrichtigungen werden nicht zugestellt",
        "los correos y avisos no llegan",
        "le email di notifica non arrivano",
        "os e-mails de notificação não chegam",
    ],
    "search": [
        "search returns no results",
        "cannot find records, lookup and filters do not work",
        "la recherche ne trouve plus rien",
        "die Suche liefert keine Treffer",
        "la búsqueda no devuelve resultados",
        "la ricerca non trova niente",
        "a pesquisa não encontra nada",
    ],
    "export": [
        "the export or report is empty",
        "downloading data as CSV or a report fails",
        "l'export CSV ou le rapport est vide",
        "der Export oder Bericht ist leer",
        "la exportación o el informe sale vacío",
        "l'esportazione o il report è vuoto",
        "a exportação ou o relatório vem vazio",
    ],
    "api": [
        "the API returns errors",
        "webhooks and integration events are not delivered",
        "our integration or connected app gets server errors from your service",
        "l'API renvoie des erreurs à notre intégration",
        "die Schnittstelle antwortet mit Serverfehlern",
        "la API devuelve errores a nuestra integración",
        "le chiamate API restituiscono errori",
        "a API retorna erros para a integração",
    ],
    # No English sentence: English names its phone calls in words (area_words), and MiniLM placed a mail
    # whose customers "rang" about statements that never came among calls.
    "calls": [
        "les appels entrants n'arrivent plus",
        "eingehende Anrufe kommen nicht an",
        "las llamadas entrantes no llegan",
        "le chiamate in entrata non arrivano",
        "as chamadas recebidas não chegam",
    ],
    # Appointments and reservations customers make through a public page; no English sentence, as calls.
    "bookings": [
        "nos clients ne peuvent plus prendre rendez-vous en ligne",
        "Kunden können keine Termine mehr online buchen",
        "los clientes no pueden reservar cita en la web",
        "i clienti non riescono a prenotare online",
        "os clientes não conseguem fazer agendamento online",
    ],
    "documents": [
        "invoice PDF or document download is broken",
        "files and attachments cannot be opened",
        "uploading a file or adding an attachment fails",
        "impossible de téléverser ou joindre un fichier",
        "Dateien hochladen oder anhängen geht nicht",
        "no se pueden subir ni adjuntar archivos",
        "non si riesce a caricare o allegare un file",
        "não é possível enviar ou anexar arquivos",
    ],
    "loading": [
        "the app does not load",
        "pages are very slow or time out",
        "the dashboard is blank",
        "l'application est très lente ou la page reste blanche",
        "die Anwendung lädt ewig oder die Seite bleibt leer",
        "la aplicación no carga o va muy lenta",
        "l'applicazione non si apre o è lentissima",
        "o aplicativo não abre ou fica muito lento",
    ],
}
# Something stopped working, in the languages the desk reads.
BROKEN = [
    "it stopped working",
    "it has been broken since this morning",
    "we get an error every time",
    "it fails for all our customers",
    "nothing arrives any more",
    "the service is down",
    "it does not work at all",
    "it says something went wrong",
    "it keeps loading and then fails with an error",
    "it is stuck in pending for hours",
    "funktioniert seit heute nicht mehr",
    "es kommt nichts mehr an",
    "ne fonctionne plus depuis ce matin",
    "no funciona desde esta mañana",
    "non funziona più",
]
# What a mail to a support desk is when nothing broke: its intent, never a part of the product (a
# sentence about orders drew a payment failure's report to it).
FINE = [
    "how do I do this",
    "a feature request, an idea for the product",
    "thank you",
    "a question about pricing or plans",
    "please change my account details",
    "can you explain how this works",
    "I would like to request a change",
    "please do this for us",
    "thanks for fixing it",
    "can we get a higher limit",
    "is it possible to change a setting",
    "will the service be down for planned maintenance?",
    "a question about refunds or returns",
]


class SymptomReader:
    """Reads Symptoms from a ticket's embedding, with the prototypes embedded once (on first use)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._lock = threading.Lock()
        self._prototypes: tuple[list[str], np.ndarray, np.ndarray, np.ndarray] | None = None

    def _embedded(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        with self._lock:
            if self._prototypes is None:
                names = [area for area, sentences in AREAS.items() for _ in sentences]
                sentences = [s for group in AREAS.values() for s in group]
                self._prototypes = (
                    names,
                    np.array(self.embedder.embed(sentences)),
                    np.array(self.embedder.embed(BROKEN)),
                    np.array(self.embedder.embed(FINE)),
                )
            return self._prototypes

    def read(self, vector: list[float], text: str) -> Symptoms:
        """What the text, embedded as `vector`, tells: its area, its malfunction, its language, the feature
        of its area it names. Its words are read in its first MAX_CHARS, as the embedders read it (a 10 MB
        body took 4 s of CPU)."""
        text = _unsigned(text[:MAX_CHARS])
        language = detect_language(text, "")
        v = np.asarray(vector)
        area = self._area(v, language, text)
        return Symptoms(
            area=area,
            malfunction=round(self._malfunction(v, language, text), 4),
            language=language,
            feature=feature_named(area, text),
        )

    def _area(self, v: np.ndarray, language: str | None, text: str) -> str | None:
        """Of the areas the text's words name, the one it is nearest to; with no words of any, the nearest
        of all, but in a language the model does not read none (None)."""
        named = areas_named(language, text)
        if not named and language not in (None, "en"):
            return None
        names, areas, _, _ = self._embedded()
        among = set(named or names)
        nearest: dict[str, float] = {}
        for name, score in zip(names, (areas @ v).tolist(), strict=True):
            if name in among:
                nearest[name] = max(nearest.get(name, -1.0), score)
        return max(nearest, key=nearest.__getitem__)

    def _malfunction(self, v: np.ndarray, language: str | None, text: str) -> float:
        """How much nearer the text is to things that broke than to anything else (above 0: a
        malfunction), its sign told by the text's words in a language the model does not read, and in
        English where the model is unsure (nearer than UNSURE to 0)."""
        _, _, broken, fine = self._embedded()
        malfunction = float((broken @ v).max() - (fine @ v).max())
        words = reads_as_failure(language or "en", text)
        if words is None or (language in (None, "en") and abs(malfunction) >= UNSURE):
            return malfunction
        return abs(malfunction) if words else -abs(malfunction)


# Where a mail signs with its writer's name (tools/names.py); an introduction ("This is CSV Export
# failing") may take words of the report for a name, and they stay.
SIGNED = ("closing line", "sign-off block")


def _unsigned(text: str) -> str:
    """The text without the name it is signed with, which is no word of the report: "Hélène Blanc" is no
    blank page, "Sven Koch" no cook."""
    name, source = find_customer_name(text, "", "")
    return text.replace(name, " ") if name and source in SIGNED else text
