"""Spanish rules beyond suicide: self-harm, eating disorders, substances, abuse, child
safety, harm to others, psychosis, third parties, bereavement and hopelessness."""

from __future__ import annotations

from bot.safety.levels import Category as C
from bot.safety.levels import RiskLevel as L
from bot.safety.rules import Boost, Context, Rule, Scope, TimeClass as T

PAST_LOWERS = {T.PAST: L.CONCERN, T.LONG_AGO: L.CONCERN}
MINOR_HIGH = Boost("minor", L.HIGH, Scope.MESSAGE, category=C.CHILD_SAFETY, reason="a minor")
MINOR_CATEGORY = Boost("minor", L.ELEVATED, Scope.MESSAGE, category=C.CHILD_SAFETY)

OTHER = (
    Rule(
        id="es.self_harm.act",
        category=C.SELF_HARM,
        level=L.ELEVATED,
        reason="self-harm",
        patterns=(
            r"me (?:corto|cortaba|autolesiono|autolesionaba|lastimo|lastimaba|quemo|quemaba|rasguno|golpeo)(?! el pelo| las unas| el cabello| el dedo)",
            r"me volvi a (?:cortar|lastimar|hacer dano|autolesionar|quemar)|volvi a (?:cortarme|lastimarme|autolesionarme)",
            r"me hago dano|me hacia dano|autolesion\w*|cortarme (?:los brazos|las piernas|las munecas)|ganas de (?:cortarme|hacerme dano|lastimarme)",
        ),
        timed=PAST_LOWERS,
        boosts=(MINOR_CATEGORY,),
        examples=("me corto los brazos cuando estoy mal", "me hago dano a proposito"),
    ),
    Rule(
        id="es.self_harm.bleeding",
        category=C.SELF_HARM,
        level=L.IMMINENT,
        reason="serious bleeding from self-harm now",
        patterns=(r"me corte (?:muy )?(?:profundo|hondo)|(?:no )?para de sangrar|no deja de sangrar|estoy sangrando (?:mucho|demasiado)|sangre por todas partes",),
        negated=None,
        needs=Context.SUICIDAL,
        context_cue="cutting_context",
        examples=(),
    ),
    Rule(
        id="es.eating.behaviour",
        category=C.EATING_DISORDER,
        level=L.ELEVATED,
        reason="eating-disorder behaviour (purging, restricting, starving)",
        patterns=(
            r"vomito a proposito|me provoco el vomito|me hago vomitar|vomitar despues de comer|laxantes|anorexi\w*|bulimi\w*|pro ana",
            r"(?:tome|bebi|me tome) (?:\w+ )?(?:cloro|lejia|veneno|raticida|anticongelante)|"
            r"(?:llevo|estoy) (?:\w+ ){0,2}sin comer para (?:adelgazar|bajar)|\d{2,4} calorias al dia|me mato de hambre",
            r"vomit\w* (?:despues de (?:\w+ ){0,2}comer|despues de cada comida)|vomit\w*(?: \w+){0,5} para (?:no engordar|adelgazar|bajar)|"
            r"vomito para (?:adelgazar|bajar|no engordar)|me salto (?:las|todas las) comidas(?: \w+){0,3} (?:para )?(?:adelgazar|bajar)",
        ),
        timed=PAST_LOWERS,
        boosts=(MINOR_CATEGORY,),
        examples=("vomito a proposito despues de comer",),
    ),
    Rule(
        id="es.eating.weight_loss",
        category=C.EATING_DISORDER,
        level=L.NONE,
        reason="asks to lose weight while underweight",
        patterns=(r"(?:bajar|perder|adelgazar) (?:\d+ )?(?:mas|kilos|kg|de peso)?",),
        negated=None,
        boosts=(Boost("underweight", L.HIGH, Scope.SESSION, reason="while underweight"),),
        examples=("quiero bajar 5 mas",),
    ),
    Rule(
        id="es.substance.numbing",
        category=C.SUBSTANCE,
        level=L.ELEVATED,
        reason="uses alcohol or drugs to numb or cope",
        patterns=(
            r"(?:bebo|tomo|fumo|me drogo|consumo|me emborracho|me pongo) (?:\w+ ){0,6}para (?:olvidar|no sentir(?: nada)?|aguantar|"
            r"sobrellevar|escapar|no pensar|dejar de pensar)",
        ),
        timed=PAST_LOWERS,
        examples=("bebo todas las noches para olvidar",),
    ),
    Rule(
        id="es.abuse.sexual",
        category=C.ABUSE,
        level=L.ELEVATED,
        reason="sexual abuse or assault disclosed",
        patterns=(
            r"abusa(?:ba)? de mi|abuso de mi|me (?:viola|violaba|toca|tocaba|violaron|abusaron)|fui (?:violad[oa]|abusad[oa])",
            r"(?:sufri|sufro) (?:abusos?|abuso sexual)|abuso sexual",
        ),
        timed=PAST_LOWERS,
        boosts=(MINOR_HIGH,),
        examples=("mi padrastro abusa de mi", "me violaron hace dos meses"),
    ),
    Rule(
        id="es.abuse.physical",
        category=C.ABUSE,
        level=L.ELEVATED,
        reason="physical or emotional abuse disclosed",
        patterns=(
            r"me (?:pega|golpea|pegaba|golpeaba|amenaza|maltrata|maltrataba|empuja|ahorca|estrangula|insulta|humilla)(?! el| la| los)",
            r"me controla (?:el celular|el telefono|el dinero|todo)|(?:sufri|sufro) (?:maltrato|violencia)|violencia (?:domestica|de genero|intrafamiliar)",
        ),
        timed=PAST_LOWERS,
        boosts=(MINOR_CATEGORY,),
        examples=("mi pareja me pega cuando se enoja",),
    ),
    Rule(
        id="es.abuse.violence_now",
        category=C.ABUSE,
        level=L.IMMINENT,
        reason="violence happening now",
        patterns=(
            r"(?:me|le|les|nos) (?:esta|estan) (?:pegando|golpeando|ahorcando|violando|apunalando)|(?:esta|estan) tirando la puerta",
            r"(?:esta|estan) (?:pegando|golpeando|ahorcando) a (?:mi|mis)",
        ),
        negated=None,
        examples=("me esta pegando ahora mismo",),
    ),
    Rule(
        id="es.abuse.threat_to_user",
        category=C.ABUSE,
        level=L.HIGH,
        reason="threatened with death or serious harm",
        patterns=(r"amenazo con matarme|amenaza con matarme|dijo que me (?:va|iba) a matar",),
        negated=None,
        drop_if=("trivial",),
        examples=("amenazo con matarme",),
    ),
    Rule(
        id="es.child.at_risk",
        category=C.CHILD_SAFETY,
        level=L.ELEVATED,
        reason="a child may be being abused or neglected",
        patterns=(
            r"(?:le|les) pegan|maltratan a (?:su|sus|los|la|el) (?:hij[oa]s?|ninos?|nin[oa])|(?:abusan de|maltratan a) (?:mi|su) (?:hij[oa]|sobrin[oa])",
        ),
        examples=("creo que a mi sobrina le pegan en casa",),
    ),
    Rule(
        id="es.others.threat",
        category=C.HARM_TO_OTHERS,
        level=L.ELEVATED,
        reason="threat or intent to hurt a person",
        patterns=(
            r"(?:lo|la|los|te) voy a (?:matar|apunalar|balear|disparar|acuchillar|reventar)|voy a (?:matarlo|matarla|matarlos)",
            r"voy a matar a (?:mi|ese|esa|al|la) (?:\w+ )?(?:{KIN}|jefe|jefa|profe|maestro|maestra|tipo|vecino|vecina)",
        ),
        negated=L.NONE,
        drop_if=("trivial",),
        boosts=(
            Boost("weapon", L.HIGH, Scope.MESSAGE, reason="with a weapon"),
            Boost("threat_plan", L.HIGH, Scope.MESSAGE, reason="with a plan or time"),
        ),
        examples=("lo voy a matar",),
    ),
    Rule(
        id="es.psychosis.command",
        category=C.PSYCHOSIS,
        level=L.HIGH,
        reason="command hallucinations to harm",
        patterns=(r"(?:voz|voces) (?:\w+ ){0,3}(?:me dicen|me dice|me ordenan|me ordena|me piden|me pide) que (?:me )?(?:mate|suicide|haga dano|lastime|tire|corte|muera|mate a)",),
        negated=None,
        boosts=(Boost("self_object", L.HIGH, category=C.SELF_HARM), Boost("other_object", L.HIGH, category=C.HARM_TO_OTHERS)),
        examples=("las voces me dicen que me mate",),
    ),
    Rule(
        id="es.psychosis.symptoms",
        category=C.PSYCHOSIS,
        level=L.ELEVATED,
        reason="hears voices or describes paranoid or psychotic experiences",
        patterns=(
            r"(?:escucho|oigo) voces|voces en mi cabeza|me (?:estan )?(?:vigilando|siguiendo|espiando)|leen (?:mi mente|mis pensamientos)",
            r"un chip en (?:mi|la) cabeza",
        ),
        timed=PAST_LOWERS,
        examples=("escucho voces que hablan de mi",),
    ),
    Rule(
        id="es.third.suicide",
        category=C.SUICIDE,
        level=L.ELEVATED,
        reason="someone else may be at risk of suicide or self-harm",
        patterns=(
            r"(?:el|ella|ellos|mi \w+(?: \w+)?|su \w+) (?:\w+ ){0,3}(?:se quiere|se va a|dice que se va a|dice que se quiere|se intento) "
            r"(?:matar|suicidar|quitar la vida|morir|cortar)",
            r"(?:el|ella|ellos|mi \w+(?: \w+)?|su \w+) (?:\w+ ){0,3}(?:quiere|va a|intento|trato de|amenaza con|habla de|dice que quiere) "
            r"(?:matarse|suicidarse|quitarse la vida|hacerse dano|cortarse|morirse)",
            r"(?:mi \w+|el|ella) (?:\w+ )?se (?:corta|autolesiona|hace dano|quiere morir)|(?:el|ella|mi \w+) es suicida",
        ),
        timed=PAST_LOWERS,
        third_party=True,
        drop_if=("fiction",),
        boosts=(Boost("soon", L.HIGH, reason="timing: now or tonight"), Boost("weapon", L.HIGH, Scope.MESSAGE, reason="with means")),
        examples=("mi mejor amiga se quiere suicidar",),
    ),
    Rule(
        id="es.third.emergency",
        category=C.SUICIDE,
        level=L.IMMINENT,
        reason="someone else's overdose or attempt is happening now",
        patterns=(r"(?:mi \w+|el|ella) (?:acaba de|se acaba de) (?:tomar|tomarse|tragar|tragarse) (?:muchas|todas|un frasco|una caja|un monton de)",),
        negated=None,
        third_party=True,
        examples=("mi amiga acaba de tomarse muchas pastillas",),
    ),
    Rule(
        id="es.third.bereaved",
        category=C.SUICIDE,
        level=L.CONCERN,
        reason="bereaved by suicide",
        patterns=(
            r"(?:mi|su|nuestro|nuestra) (?:\w+ ){0,2}se (?:suicido|quito la vida|mato|ahorco|colgo)",
            r"perdi a (?:mi|un|una) (?:\w+ ){0,2}por suicidio|suicidio de (?:mi|su) \w+",
        ),
        negated=None,
        third_party=True,
        drop_if=("fiction",),
        examples=("mi hermano se suicido",),
    ),
    Rule(
        id="es.risk_factor.hopeless",
        category=C.SUICIDE,
        level=L.CONCERN,
        reason="hopelessness, entrapment or feeling a burden",
        patterns=(
            r"sin esperanza|(?:no tengo|perdi la|ya no tengo|no hay) esperanza|desesperad[oa]|nada va a cambiar|nunca va a mejorar",
            r"soy una carga|(?:me siento|estoy) atrapad[oa]|no tengo salida|no hay salida|ya no aguanto(?: mas)?|no puedo mas|todo se derrumba",
            r"no sirvo para nada|para que seguir|no (?:veo|tengo|hay) (?:ninguna )?salida",
        ),
        examples=("soy una carga para mi familia",),
    ),
)
