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
        "reply_out": [
            "Sorry about that! We're on it — please DM us your postcode and we'll check the line.",
            "Thanks for the kind words, we'll pass them on to the team!",
            "Yes! Call 900 123 456 or fill in momento.example/move and we keep your number.",
        ],
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
        "reply_out": [
            "¡Lo sentimos! Ya lo estamos mirando: envíanos tu código postal por MD y revisamos la línea.",
            "¡Gracias por tus palabras! Se lo pasamos al equipo.",
            "¡Sí! Llama al 900 123 456 o rellena momento.example/portabilidad y conservas tu número.",
        ],
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
    },
}

SENTIMENT = {
    "complaint": "negative",
    "question": "neutral",
    "praise": "positive",
    "other": "neutral",
}


def person(rng: random.Random, n: int) -> dict:
    lang = "es" if n % 2 else "en"
    first = rng.choice(FIRST_ES if lang == "es" else FIRST_EN)
    last = rng.choice(LAST_ES if lang == "es" else LAST_EN)
    return {"lang": lang, "name": f"{first} {last}", "company": rng.choice(COMPANIES)}


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
        if intent == "dm":
            plan.append(("dm", "in", "", rng.choice(texts["dm"]), when))
        else:
            kind = rng.choice(["mention", "mention", "reply", "quote"])
            plan.append((kind, "in", intent, rng.choice(texts[intent]).format(brand=brand), when))
        if rng.random() < 0.3 and len(plan) < count:
            plan.append(
                (
                    "reply",
                    "out",
                    "",
                    rng.choice(texts["reply_out"]),
                    when + timedelta(minutes=rng.randint(3, 90)),
                )
            )
    return [p for p in plan if p[4] <= now][:count]
