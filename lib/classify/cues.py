"""Intent cue patterns for English and Spanish.

Patterns are matched against accent-folded, lowercased text (see
:func:`lib.classify.text.fold`), so Spanish cues are written without
accents and match "atención" and "atencion" alike.  Each cue carries a
weight: for complaint/praise cues it also feeds sentiment (negative for
complaints, positive for praise) where the word itself is not already in the
sentiment lexicon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Cue:
    pattern: re.Pattern[str]
    weight: float
    #: Valence added to the sentiment sum (VADER scale); 0 = intent only.
    valence: float = 0.0


def _cues(*items: tuple[str, float, float]) -> tuple[Cue, ...]:
    return tuple(Cue(re.compile(p), w, v) for p, w, v in items)


_NEG_VERB_EN = r"(?:not|n't|never|no longer|nt|cant|wont|doesnt|isnt|dont)"

COMPLAINT: dict[str, tuple[Cue, ...]] = {
    "en": _cues(
        (
            r"\bnever (arrived|came|showed up|turned up|received|got|delivered|answer|repl)",
            2.5,
            -2.0,
        ),
        (r"\b(still|been) (waiting|no\b|not\b|nothing|haven'?t|hasn'?t)", 2.0, -1.5),
        (
            r"\bno (internet|signal|service|wifi|connection|coverage|reply|replies|response|answer|one (answers|replies|helps|cares))",
            2.5,
            -2.0,
        ),
        (
            r"\bnobody (answers|replies|helps|cares|is (picking|answering|helping)|picks)",
            2.5,
            -2.0,
        ),
        (r"\bzero (replies|response|help)", 2.0, -1.5),
        (r"\b(down|outage|outages|offline)\b", 1.5, -1.2),
        (
            r"\bcharged (me )?(twice|double|again|for)|\bdouble charged|\bovercharg",
            2.5,
            -2.0,
        ),
        (
            r"\b(still got|got) charged\b|\bbilled me\b|\bhidden (fees|charges)",
            2.0,
            -1.5,
        ),
        (r"\b(want|need|demand) (my|a) (money|refund)", 2.5, -2.0),
        (r"\brefund\b", 1.0, 0.0),
        (
            r"\b(doesn'?t|does not|don'?t|isn'?t|is not|won'?t|can'?t|cannot|cant|not) (work|working|load|loading|connect|even)",
            2.0,
            -1.8,
        ),
        (
            r"\bkeeps? (crashing|dropping|freezing|failing|cutting|disconnecting)|\b(crash|crashes|crashing|drops|dropping)\b",
            2.0,
            -1.5,
        ),
        (r"\bon hold\b|\bhold for\b", 1.5, -1.2),
        (
            r"\b(broken|damaged|faulty|cracked|soaked|smashed|wrong (size|item|order|product|colou?r))\b",
            2.0,
            -1.5,
        ),
        (
            r"\b(scam|fraud|fraudulent|rip ?off|ripoff|unacceptable|ridiculous|useless|joke|nightmare|disgrace|shambles|pathetic|awful|terrible|worst|appalling|disgusting|disappointed|disappointing)\b",
            2.0,
            0.0,
        ),
        (r"\b(slow|slowest|throttl\w*|laggy|lagging)\b", 1.5, -1.5),
        (r"\b(errors? out|error message|glitch\w*|bug(gy|s)?)\b", 1.5, -1.2),
        (
            r"\bblocked\b|\bcut (off|my)\b|\bcutting (off|my)\b|\bcancell?ed (my|without)\b",
            1.5,
            -1.0,
        ),
        (
            r"\bwith no (explanation|warning|notice)|\bwithout (warning|notice|explanation)\b",
            1.5,
            -1.5,
        ),
        (r"\bfor nothing\b|\bday off work\b|\bwaste of\b", 1.5, -1.5),
        (r"\b(smh|wtf|ffs|fml|sort it out|fix it|fix this|sort this)\b", 1.5, -1.5),
        (r"\bnot (ok|okay|happy|good enough|acceptable)\b", 2.0, 0.0),
        (
            r"\bnever (ordering|buying|using|again)\b|\bswitching provider|\bleaving you\b",
            2.0,
            -1.5,
        ),
        (r"\b(real|actual) (human|person)\b|\bnot a bot\b", 1.5, -1.0),
        (r"\bgone downhill\b|\bwent up\b|\bgone up\b|\bprice (hike|rise)", 1.5, -1.2),
        (
            r"\bdo you even\b|\bwhy (is|does|do|did|are|have|haven'?t|hasn'?t|can'?t|won'?t|would)\b",
            1.5,
            -1.0,
        ),
        (
            r"\b(delivered|dispatched) but\b|\bnot here\b|\bdoesn'?t (even )?exist\b|\bnever showed\b",
            2.0,
            -1.5,
        ),
        (r"\bagain\b", 0.7, -0.5),
    ),
    "es": _cues(
        (
            r"\bnunca (llego|llegaron|vino|vinieron|contesta|contestan|responde|responden)",
            2.5,
            -2.0,
        ),
        (r"\b(todavia|aun|sigo|seguimos) (espero|esperando|sin|no\b)", 2.0, -1.5),
        (
            r"\b(llevo|llevamos|hace) .{0,25}(sin|esperando|espera|que no|que espero)\b",
            2.0,
            -1.5,
        ),
        (
            r"\bsin (internet|senal|servicio|wifi|conexion|cobertura|luz|linea|respuesta|avisar|explicacion)",
            2.5,
            -2.0,
        ),
        (
            r"\bno (tengo|tenemos|hay) (internet|senal|servicio|wifi|conexion|cobertura|linea|respuesta)",
            2.5,
            -2.0,
        ),
        (
            r"\bnadie (contesta|responde|atiende|ayuda|me (da|ayuda|responde|contesta|soluciona))",
            2.5,
            -2.0,
        ),
        (
            r"\bno (funciona|funcionan|sirve|sirven|va\b|carga|anda|conecta|entiende)",
            2.5,
            -2.0,
        ),
        (r"\bno puedo\b", 1.5, -1.0),
        (
            r"\b(se (cayo|cae|corta|cuelga|colgo)|caida|caidas|averia|cortaron|bloquearon)\b",
            1.5,
            -1.0,
        ),
        (
            r"\b(me|nos) (cobraron|cobran|cobro|estan cobrando|siguen cobrando)\b|\bcobr\w* (dos veces|doble|de mas)|\bcobros? ocultos?",
            2.5,
            -2.0,
        ),
        (
            r"\bquiero (mi|el|la) (dinero|plata|reembolso|devolucion)|\bno me devuelven\b",
            2.5,
            -2.0,
        ),
        (r"\breembolso\b|\bdevolucion\b", 1.0, 0.0),
        (
            r"\b(estafa|estafadores|timo|fraude|robo|ladrones|engano|verguenza|desastre|porqueria|basura|inaceptable|pesimo|pesima|horrible|fatal|inutil|harto|harta|lamentable|mala onda|decepcion\w*)\b",
            2.0,
            0.0,
        ),
        (r"\b(lento|lenta|lentisimo|lentisima|no carga)\b", 1.5, 0.0),
        (
            r"\b(roto|rota|danado|danada|equivocad[oa]|tirado)\b|\botra vez\b|\bde nuevo\b",
            1.5,
            -0.8,
        ),
        (r"\ben espera\b|\bespera(ndo)?\b", 1.0, -0.5),
        (r"\b(exijo|reclame|reclamo|reclamacion|queja|denuncia)\b", 2.0, -1.0),
        (r"\bno vuelvo\b|\bme cambio de\b|\bme voy a (otra|la competencia)", 2.0, -1.5),
        (r"\bhasta (la madre|las narices|el gorro|el mono)\b", 2.5, 0.0),
        (
            r"\b(dice|pone|figura) entregado\b|\baqui no hay nada\b|\bno (vino|llego)\b|\bni (siquiera|contestan)\b",
            2.0,
            -1.5,
        ),
        (r"\b(mil|cien) veces\b|\bperdi\b|\bpara nada\b", 1.2, -1.0),
        (r"\bpor que no\b|\bcomo es posible\b", 1.5, -1.0),
        (r"\bsubio\b|\bsubieron\b", 1.2, -0.8),
    ),
}

PRAISE: dict[str, tuple[Cue, ...]] = {
    "en": _cues(
        (r"\b(thank you|thanks|thank u|thx|ty|cheers|tysm|many thanks)\b", 2.0, 0.0),
        (r"\b(love|loving|loved|luv)\b", 2.0, 0.0),
        (
            r"\b(shout ?out|kudos|props|hats off|respect|well done|great job|good job|nice one)\b",
            2.5,
            1.5,
        ),
        (
            r"\b(amazing|awesome|excellent|brilliant|fantastic|superb|outstanding|impressed|incredible|gorgeous|perfect|perfectly|unreal)\b",
            2.0,
            0.0,
        ),
        (r"\b(recommend|10/10|five stars|5 stars|no regrets|best)\b", 2.0, 1.0),
        (
            r"\b(you (guys )?rock|came through|made my day|saved my|so glad|happy customer|rock solid|on time|smooth|smoother)\b",
            2.0,
            1.5,
        ),
        (r"\b(appreciate|appreciated|grateful|helpful|friendly|patient)\b", 1.5, 0.0),
        (
            r"\b(sorted|resolved|solved|fixed|fixing)\b.{0,40}\b(quick|fast|minutes|so|early|today)",
            2.0,
            1.5,
        ),
        (
            r"\b(a day early|arrived early|so fast|so quick|so quickly|miles better|great (deal|price|service))\b",
            1.5,
            1.5,
        ),
    ),
    "es": _cues(
        (
            r"\b(gracias|graciass|agradezco|agradecemos|agradecida|agradecido)\b",
            2.0,
            0.0,
        ),
        (r"\b(me encanta|me encantan|los amo|las amo|amo|adoro|me gusta)\b", 2.0, 0.0),
        (
            r"\b(bravo|felicidades|felicitaciones|enhorabuena|cracks?|genios?|de diez|lo maximo|buena onda|que padre|chevere|bacan|chido|guay|respeto)\b",
            2.5,
            0.0,
        ),
        (
            r"\b(excelente|genial|perfecto|perfecta|perfectamente|increible|buenisim[oa]|maravillos[oa]|fantastic[oa]|espectacular|impecable|bellisim[oa])\b",
            2.0,
            0.0,
        ),
        (
            r"\b(recomendad[oa]|recomiendo|cero arrepentimiento|el mejor|la mejor|los mejores|las mejores)\b",
            2.0,
            1.0,
        ),
        (
            r"\b(cumplio|cliente (feliz|contento|contenta)|al toque|puntual|amable|atent[oa]s?|paciencia|vuela)\b",
            1.5,
            1.0,
        ),
        (
            r"\b(resolvieron|solucionaron|arreglaron|resuelto|solucionado|arreglar)\b",
            1.5,
            1.0,
        ),
        (
            r"\b(un dia antes|tan rapido|mil veces mejor|muy rapido|facilisim[oa])\b",
            1.5,
            1.5,
        ),
    ),
}

QUESTION_START: dict[str, re.Pattern[str]] = {
    "en": re.compile(
        r"^(?:(?:hi|hello|hey|hiya|morning|quick q|quick question|question)\b[\s,!:.]*)?"
        r"(?:how|what|whats|what's|when|where|which|who|whom|why|can|could|would|will|do|does|did|is|are|was|"
        r"any ?one|anybody|any idea|is there|are there|should|may|might|has|have)\b"
    ),
    "es": re.compile(
        r"^(?:(?:hola|buenas|buenos dias|buenas tardes|oigan|oye|disculpen|consulta|pregunta)\b[\s,!:.]*)?"
        r"(?:como|que|q|cuando|donde|cual|cuales|cuanto|cuanta|cuantos|cuantas|quien|quienes|por que|"
        r"puedo|pueden|podrian|podria|se puede|hay|tienen|hacen|aceptan|cobran|igualan|"
        r"alguien sabe|sabeis|saben|me (dicen|pueden|podrian|ayudan|informan)|la .{1,30} cubre)\b"
    ),
}

#: Requests for information phrased without "?".
QUESTION_CUES: dict[str, tuple[Cue, ...]] = {
    "en": _cues(
        (
            r"\b(can|could) (you|someone|somebody) (tell|let|dm|check|help|explain)\b",
            2.0,
            0.0,
        ),
        (
            r"\b(let me know|dm me|please advise|any idea|anyone know|does anyone|wondering if|is it possible)\b",
            2.0,
            0.0,
        ),
        (r"\bor is it just me\b|\bjust me\b", 1.5, 0.0),
    ),
    "es": _cues(
        (
            r"\b(me (dicen|pueden decir|podrian decir|informan|explican)|alguien sabe|saben si|sabeis si|quisiera saber|queria saber)\b",
            2.0,
            0.0,
        ),
        (r"\bsolo me pasa a mi\b|\bsoy (yo|el unico|la unica)\b", 1.5, 0.0),
    ),
}

#: Posts that are clearly not customer-care traffic.
OTHER_CUES: dict[str, tuple[Cue, ...]] = {
    "en": _cues(
        (r"^rt\b|\bretweet\b", 2.5, 0.0),
        (
            r"\b(we'?re hiring|hiring|job opening|link in bio|giveaway|win a|click here|blog post|new video|unboxing|poll|fun fact|reminder|join us|i'?m at|check out|follow(ing)? (you|us))\b",
            2.5,
            0.0,
        ),
        (r"\b(results|revenue|announces|announced|press release)\b", 1.5, 0.0),
    ),
    "es": _cues(
        (r"^rt\b|\bdale rt\b", 2.5, 0.0),
        (
            r"\b(estamos contratando|contratando|link en la bio|sorteo|gana un|entra aqui|nuevo post|nuevo video|unboxing|encuesta|dato curioso|recordatorio|visitanos|estoy en|miren mi|ya los sigo|los sigo|te sigo)\b",
            2.5,
            0.0,
        ),
        (r"\b(resultados|ingresos|anuncia|presenta)\b", 1.5, 0.0),
    ),
}

#: Markers that a positive-looking post is sarcastic.
SARCASM: dict[str, re.Pattern[str]] = {
    "en": re.compile(
        r"\b(love how|yeah right|thanks for nothing|great\.$|brilliant\.$|wow thanks|just great|oh great|lol\. great)\b|\bgreat$"
    ),
    "es": re.compile(
        r"\b(que bonito|que bien eh|si claro|gracias por nada|genial,? otra vez|muy bonito)\b"
    ),
}
SARCASM_EMOJI = frozenset({"🙄", "🤡", "🙃", "😒"})

#: Customer-care vocabulary: a post mentioning none of these and no brand
#: handle is unlikely to be a service question/complaint/praise.
DOMAIN: dict[str, re.Pattern[str]] = {
    "en": re.compile(
        r"\b(order\w*|deliver\w*|dispatch\w*|parcel|package|courier|tracking|refund\w*|return\w*|"
        r"internet|wifi|wi-fi|fibre|fiber|broadband|signal|coverage|5g|4g|data|roaming|network|outage|"
        r"app|website|site|login|log in|account\w*|card\w*|bank\w*|transfer|transaction|pin|statement|savings|"
        r"bill\w*|invoice|plan|contract|subscription|fee|fees|charge\w*|price|payment\w*|pay|paying|"
        r"phone|router|modem|line|number|sim|store|shop|support|customer service|service|agent|chat\w*|bot|"
        r"engineer|technician|warranty|upgrade|stock|discount|sale|deal|ticket|hotline|helpline|call|"
        r"product|item|headphones|size|quality|team|staff|provider|telco|speed|mb|gb|"
        r"issue|problem|response|reply|replies|help|email\w*)\b"
    ),
    "es": re.compile(
        r"\b(pedido\w*|envio\w*|entrega\w*|paquete|repartidor|mensajer\w*|seguimiento|reembolso|devolucion|devolver|"
        r"internet|wifi|fibra|senal|cobertura|5g|4g|datos|roaming|red|linea|caida\w*|"
        r"app|aplicacion|web|pagina|cuenta\w*|tarjeta\w*|banco|transferencia\w*|pin|ahorro|tasas?|"
        r"factura\w*|plan|tarifa|contrato|permanencia|suscripcion|comision|cargo|cobr\w*|precio\w*|pago\w*|pagar|"
        r"movil|celular|telefono|telefonica|router|modem|numero|portabilidad|sim|tienda\w*|atencion|cliente|"
        r"servicio|agente|chat|bot|tecnico|garantia|stock|descuento|oferta|ticket|llamada\w*|producto|"
        r"audifonos|auriculares|talla|calidad|equipo|compania|velocidad|titular|plata|dinero|"
        r"problema|respuesta|ayuda|correos?|incidencia)\b"
    ),
}
