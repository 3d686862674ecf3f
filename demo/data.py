"""Believable bilingual demo data for Momento Fibra, an internet provider (seed_demo)."""

from __future__ import annotations

import random
from datetime import timedelta

FIRST_EN = [
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "James",
    "Mia",
    "Lucas",
    "Grace",
    "Ethan",
    "Chloe",
    "Henry",
    "Zoe",
    "Jack",
    "Ruby",
    "Leo",
    "Ella",
    "Owen",
    "Nora",
    "Sam",
]
LAST_EN = [
    "Smith",
    "Brown",
    "Taylor",
    "Wilson",
    "Evans",
    "Walker",
    "Hughes",
    "Green",
    "Hall",
    "Wood",
    "Clarke",
    "Turner",
    "Moore",
    "King",
    "Baker",
]
FIRST_ES = [
    "Lucía",
    "Mateo",
    "Sofía",
    "Martín",
    "Valentina",
    "Diego",
    "Camila",
    "Javier",
    "Paula",
    "Andrés",
    "Carmen",
    "Tomás",
    "Elena",
    "Nicolás",
    "Julia",
    "Pablo",
    "Irene",
    "Gonzalo",
    "Marta",
    "Álvaro",
]
LAST_ES = [
    "García",
    "Fernández",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Ruiz",
    "Díaz",
    "Moreno",
    "Álvarez",
    "Romero",
    "Navarro",
    "Torres",
    "Domínguez",
]
COMPANIES = [
    "",
    "",
    "",
    "Acme Logistics",
    "Panadería La Espiga",
    "Studio Norte",
    "Bright Dental",
    "Café Central",
    "Ferretería Ruiz",
    "Greenleaf Apps",
    "Clínica Sonrisa",
    "",
]

TEXTS = {
    "en": {
        "complaint": [
            "@{brand} my fibre has been down since 8am and nobody answers the phone. Fix it!",
            "@{brand} third outage this week. Paying for 600Mb and getting 20 😡",
            "@{brand} you charged me twice this month, I want a refund",
            "Still waiting for the technician @{brand}, second day off work for nothing",
            "@{brand} the router keeps rebooting every hour, it's unusable",
        ],
        "question": [
            "@{brand} do you cover Riverside? Thinking of switching",
            "@{brand} how do I change the wifi password on the new router?",
            "@{brand} is there a student discount on the 300Mb plan?",
            "Hey @{brand}, can I keep my landline number if I move to you?",
        ],
        "praise": [
            "Shout out to @{brand} support, fixed in 10 minutes with a smile 🙌",
            "Switched to @{brand} last month and the speed is amazing",
            "@{brand} thanks for the quick reply yesterday, all working now 💙",
        ],
        "other": [
            "Watching the match tonight, who else? cc @{brand}",
            "@{brand} nice new logo!",
        ],
        "dm": [
            "Hi, my account number is on the invoice, can you check why my bill went up?",
            "Thanks for moving this to DM. The router serial is on the back, right?",
        ],
        # Our reply to each kind of message (a question's answer is at its index).
        "reply_out": {
            "complaint": [
                "Sorry about that! We're on it — please DM us your postcode and we'll check the line.",
            ],
            "praise": ["Thanks for the kind words, we'll pass them on to the team!"],
            "question": [
                "Yes, Riverside has fibre: check your street at momento.example/coverage.",
                "Open 192.168.1.1, log in with the password on the router's label, then Wi-Fi.",
                "Yes: 20% off the 300Mb plan with a valid student card, at momento.example/students.",
                "Yes! Call 900 123 456 or fill in momento.example/move and we keep your number.",
            ],
            "dm": [
                "Thanks! We've checked: the promotion ended this month. We'll DM you the options.",
                "Yes, it's on the sticker at the back. Send us a photo and we'll take it from there.",
            ],
        },
    },
    "es": {
        "complaint": [
            "@{brand} llevo sin internet desde las 8 y nadie coge el teléfono. ¡Una vergüenza!",
            "@{brand} tercera caída esta semana. Pago 600 megas y me llegan 20 😡",
            "@{brand} me habéis cobrado dos veces este mes, quiero la devolución",
            "Segundo día esperando al técnico de @{brand}, sin trabajar para nada",
            "@{brand} el router se reinicia cada hora, así no se puede",
        ],
        "question": [
            "@{brand} ¿tenéis cobertura en Chamberí? Estoy pensando en cambiarme",
            "@{brand} ¿cómo cambio la contraseña del wifi en el router nuevo?",
            "@{brand} ¿hay descuento para estudiantes en la tarifa de 300 megas?",
            "Hola @{brand}, ¿puedo mantener mi número fijo si me paso con vosotros?",
        ],
        "praise": [
            "Gracias @{brand}, me lo arreglaron en 10 minutos y con muy buen rollo 🙌",
            "Me cambié a @{brand} el mes pasado y la velocidad es una pasada",
            "@{brand} gracias por responder tan rápido ayer, ya funciona todo 💙",
        ],
        "other": [
            "Esta noche partido, ¿quién se apunta? cc @{brand}",
            "@{brand} ¡qué bonito el logo nuevo!",
        ],
        "dm": [
            "Hola, el número de cliente está en la factura, ¿podéis ver por qué ha subido?",
            "Gracias por pasarlo a privado. El número de serie del router está detrás, ¿no?",
        ],
        "reply_out": {
            "complaint": [
                "¡Lo sentimos! Ya lo estamos mirando: envíanos tu código postal por MD y revisamos la línea.",
            ],
            "praise": ["¡Gracias por tus palabras! Se lo pasamos al equipo."],
            "question": [
                "Sí, en Chamberí hay fibra: comprueba tu calle en momento.example/cobertura.",
                "Entra en 192.168.1.1 con la contraseña de la etiqueta del router y ve a Wi-Fi.",
                "Sí: un 20 % en la tarifa de 300 megas con carné de estudiante, en momento.example/estudiantes.",
                "¡Sí! Llama al 900 123 456 o rellena momento.example/portabilidad y conservas tu número.",
            ],
            "dm": [
                "¡Gracias! Lo hemos mirado: terminó la promoción este mes. Te pasamos las opciones por MD.",
                "Sí, está en la pegatina de detrás. Mándanos una foto y seguimos desde ahí.",
            ],
        },
    },
}

#: What the demo names, in the language it is seeded in (``seed_demo --language``):
#: its campaign, listening rule, tags and stage-change reasons, and the install's
#: default team and stage rules, renamed while they keep a default name of either
#: language (a name someone chose stays). Canned answers exist in both languages.
NAMES = {
    "en": {
        "team": "Support",
        "stage_rules": {
            "follow": "Follow of our account",
            "engagement": "Repeated engagement",
            "dm": "Direct message to us",
            "purchase": "Purchase",
        },
        "campaign": "Fibre 600 · launch",
        "goal": "Help people fed up with slow internet; offer the 600Mb plan.",
        "listening": "Fibre and routers",
        "tags": ["vip", "fibre", "business", "student", "churn-risk"],
        "bought": "Bought the 600Mb fibre plan",
        "followed": "Followed @{handle}",
        "no_credentials": "Demo account without credentials: connect a real one to sync.",
        "products": [("Fibre 600Mb · first month", "35.00"), ("Wi-Fi mesh extender", "59.90")],
        "todos": [
            "Call {name} about the 600Mb plan",
            "Send {name} the business quote",
            "Check {name}'s installation went well",
            "Follow up {name}'s coverage question",
            "Offer {name} the router upgrade",
        ],
    },
    "es": {
        "team": "Soporte",
        "stage_rules": {
            "follow": "Sigue nuestra cuenta",
            "engagement": "Interacción repetida",
            "dm": "Nos escribe por mensaje directo",
            "purchase": "Compra",
        },
        "campaign": "Fibra 600 · lanzamiento",
        "goal": "Ayudar a quien está harto de un internet lento; ofrecer la tarifa de 600 Mb.",
        "listening": "Fibra y routers",
        "tags": ["vip", "fibra", "empresa", "estudiante", "riesgo-de-baja"],
        "bought": "Contrató la fibra de 600 Mb",
        "followed": "Siguió a @{handle}",
        "no_credentials": "Cuenta de demostración sin credenciales: conecta una real para sincronizar.",
        "products": [("Fibra 600 Mb · primer mes", "35.00"), ("Amplificador wifi mesh", "59.90")],
        "todos": [
            "Llamar a {name} por la tarifa de 600 Mb",
            "Enviar a {name} el presupuesto para empresa",
            "Comprobar que la instalación de {name} fue bien",
            "Responder a {name} sobre la cobertura",
            "Ofrecer a {name} el cambio de router",
        ],
    },
}

SENTIMENT = {
    "complaint": "negative",
    "question": "neutral",
    "praise": "positive",
    "other": "neutral",
}


def _names(lang: str) -> list[str]:
    """Every first name with every surname, in a fixed shuffled order (then with a
    second surname), so no two demo contacts of a language share a name."""
    first, last = (FIRST_ES, LAST_ES) if lang == "es" else (FIRST_EN, LAST_EN)
    pairs = [f"{f} {s}" for f in first for s in last]
    random.Random(f"names-{lang}").shuffle(pairs)
    longer = [f"{p} {s}" for p in pairs for s in last if not p.endswith(s)]
    return pairs + longer


_NAMES = {lang: _names(lang) for lang in ("en", "es")}


def person(rng: random.Random, n: int) -> dict:
    """The n-th demo person: a unique name up to a few thousand per language (far above
    the demo's 200); past that (the benchmarks' 100,000 contacts) the names repeat with
    a number, since a name's uniqueness no longer matters there."""
    lang = "es" if n % 2 else "en"
    names = _NAMES[lang]
    rounds, i = divmod(n // 2, len(names))
    name = names[i] if not rounds else f"{names[i]} {rounds + 1}"
    return {"lang": lang, "name": name, "company": rng.choice(COMPANIES)}


def entry_plan(rng: random.Random, lang: str, stage: int, count: int, now, brand: str):
    """Yield (kind, direction, intent, text, when) for one contact's history, oldest first."""
    texts = TEXTS[lang]
    when = now - timedelta(days=rng.randint(20, 200))
    plan = [("follow", "in", "", "", when)] if stage >= 1 else []
    while len(plan) < count:
        when += timedelta(hours=rng.randint(2, 200))
        roll = rng.random()
        if roll < 0.35:
            intent = (
                "complaint"
                if stage == 2 or rng.random() < 0.4
                else rng.choice(["question", "other"])
            )
        elif roll < 0.6:
            intent = "question"
        elif roll < 0.8:
            intent = "praise"
        else:
            intent = "dm"
        index = rng.randrange(len(texts[intent]))
        if intent == "dm":
            plan.append(("dm", "in", "", texts["dm"][index], when))
        else:
            kind = rng.choice(["mention", "mention", "reply", "quote"])
            plan.append((kind, "in", intent, texts[intent][index].format(brand=brand), when))
        answers = texts["reply_out"].get(intent)
        if answers and rng.random() < 0.3 and len(plan) < count:
            # The reply answers this message: a question's own answer, an apology for a
            # complaint, thanks for praise.
            plan.append(
                (
                    "reply",
                    "out",
                    "",
                    answers[index] if len(answers) > 1 else answers[0],
                    when + timedelta(minutes=rng.randint(3, 90)),
                )
            )
    return [p for p in plan if p[4] <= now][:count]
