"""Bilingual topic keys for grouping complaints into incidents.

"no internet since this morning in Madrid" and "sin internet desde la mañana
en Madrid" must land on the same keys although English and Spanish stems
differ. :func:`topic_keys` maps customer-care words of both languages onto one
concept (``internet``, ``bill``, ``delivery``, ``outage`` ...), keeps the
place named (``place:madrid``) and other content words accent-folded but
unstemmed (brand and product names are spelt alike in both languages).
"""

from __future__ import annotations

import re

from .text import WORD_RE, fold, load_words, prepare


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: concept -> accent-folded lowercase words (English and Spanish, some slang).
CONCEPTS: dict[str, tuple[str, ...]] = {
    "internet": _words(
        "internet wifi wi-fi red senal signal conexion connection connectivity broadband "
        "fibra fibre fiber router modem adsl 4g 5g datos data cobertura coverage online "
        "net conectar connect"
    ),
    "outage": _words(
        "down outage outages offline caida caido caida cayo cayó corte cortes cortado "
        "apagon blackout averia fault broken roto rota working funciona funcionan anda "
        "outages interruption interrupcion"
    ),
    "phone": _words("phone movil celular celu cel mobile telefono llamadas calls call sim"),
    "bill": _words(
        "bill bills billing factura facturas facturacion cobro cobros cobrado cobraron "
        "cargo cargos charge charged charges invoice recibo overcharged importe"
    ),
    "payment": _words(
        "payment payments pago pagos pay paid pague tarjeta card transferencia transfer bizum debit"
    ),
    "duplicate": _words(
        "twice double duplicate duplicated duplicado duplicada doble veces repeated"
    ),
    "refund": _words("refund refunds reembolso reembolsos devolucion devoluciones money dinero"),
    "delivery": _words(
        "delivery deliveries envio envios pedido pedidos order orders parcel parcels "
        "package paquete paquetes shipping courier repartidor entrega entregas domicilio "
        "tracking seguimiento"
    ),
    "app": _words(
        "app apps aplicacion web website pagina login contrasena password cuenta account"
    ),
    "power": _words("power electricity luz electricidad energia"),
    "water": _words("water agua"),
    "tv": _words("tv tele television streaming canal canales channel channels"),
    "train": _words("train trains tren trenes metro subway tube"),
    "bus": _words("bus buses autobus autobuses camion colectivo micro bondi"),
    "flight": _words("flight flights vuelo vuelos plane avion luggage equipaje maleta"),
    "support": _words(
        "support soporte atencion agent agente customer cliente service servicio helpline chat"
    ),
}
_WORD_CONCEPT = {word: concept for concept, words in CONCEPTS.items() for word in words}
_EN_STOP = load_words("stopwords_en.txt")
_ES_STOP = load_words("stopwords_es.txt")
#: Time words: the time window groups by time, so they are not topics.
_TIME = frozenset(
    _words(
        "morning manana tarde afternoon evening noche night tonight yesterday ayer hoy today "
        "week semana weeks semanas month mes meses hour hours hora horas minutes minutos "
        "days dias day dia desde since now ahora still todavia aun again otra vez mes este"
    )
)
_NOISE = frozenset(
    _words(
        "momento rt via http https www com lol jaja never nunca nobody nadie nothing nada "
        "always siempre sort out fix please porfa favor arreglen"
    )
)
_PLACE_BEFORE = frozenset({"in", "en", "at", "near", "around"})
PLACE = "place:"
_SENTENCE_END = re.compile(r"[.!?¡¿\n]")


def topic_keys(text: object, language: str = "", limit: int = 12) -> list[str]:
    """Language-independent topic keys, in order of first appearance.

    Concepts (``internet``) and other content words, accent-folded, unstemmed;
    a word that names a place (capitalised inside a sentence, or after
    in/en/at) is also marked ``place:madrid``. Marks are not counted as
    shared keys; they keep complaints about different places apart
    (see :func:`shared_keys`). Never raises (returns ``[]``).
    """
    try:
        prepared = prepare(text)
    except Exception:
        return []
    del language  # the same keys for every language, by design
    keys: list[str] = []
    seen: set[str] = set()

    def add(key: str) -> None:
        if key not in seen and len(keys) < limit:
            seen.add(key)
            keys.append(key)

    previous = ""
    sentence_start = True
    cursor = 0
    source = prepared.text
    for match in WORD_RE.finditer(source):
        if _SENTENCE_END.search(source[cursor : match.start()]):
            sentence_start = True
        cursor = match.end()
        word = match.group(0).replace("’", "'")
        folded = fold(word)
        capitalised = word[0].isupper() and not word.isupper()
        start, sentence_start = sentence_start, False
        before, previous = previous, folded
        if word[0].isdigit():
            if folded in _WORD_CONCEPT:  # 4g, 5g
                add(_WORD_CONCEPT[folded])
            continue
        concept = _WORD_CONCEPT.get(folded)
        if concept:
            add(concept)
            continue
        if len(folded) < 3 or folded in _NOISE or folded in _TIME:
            continue
        if folded in _EN_STOP or folded in _ES_STOP:
            continue
        add(folded)
        if (capitalised and not start) or before in _PLACE_BEFORE:
            add(f"{PLACE}{folded}")
    return keys


def shared_keys(a: list[str], b: list[str]) -> int:
    """How many topic keys two complaints share; 0 if they name different places."""
    places_a = {k for k in a if k.startswith(PLACE)}
    places_b = {k for k in b if k.startswith(PLACE)}
    if places_a and places_b and not places_a & places_b:
        return 0
    return len({k for k in a if not k.startswith(PLACE)} & set(b))
