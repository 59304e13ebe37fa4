"""Spanish: slang, macros, cues and rules about suicide. Other rules are in `es_other`."""

from __future__ import annotations

from bot.safety.levels import Category as C
from bot.safety.levels import RiskLevel as L
from bot.safety.lexicon.es_other import OTHER
from bot.safety.rules import Boost, Context, Lexicon, Rule, Scope, TimeClass as T

MARKERS = frozenset(
    "el la los las de y es no me mi que yo quiero estoy un una por para con ya muy lo se q kiero ganas vida morir "
    "matarme nada todo".split()
)

SLANG: dict[str, str] = {
    "q": "que",
    "k": "que",
    "ke": "que",
    "xq": "porque",
    "pq": "porque",
    "porq": "porque",
    "x": "por",
    "kiero": "quiero",
    "kieres": "quieres",
    "kisiera": "quisiera",
    "tmb": "tambien",
    "d": "de",
    "toy": "estoy",
    "pa": "para",
    "nd": "nada",
    "ntp": "no te preocupes",
    "suisidar": "suicidar",
    "suisidarme": "suicidarme",
    "suicidarme": "suicidarme",
    "suisidio": "suicidio",
    "sucidio": "suicidio",
    "pastiyas": "pastillas",
    "pastias": "pastillas",
    "matarce": "matarse",
    "morirce": "morirse",
    "bn": "bien",
    "ps": "pues",
    "aora": "ahora",
}

MACROS: dict[str, str] = {
    "ADV": r"(?:(?:ya|de verdad|realmente|en serio|solo|tan|muy|mucho|a veces|siempre|todavia|aun|de nuevo|otra vez) )*",
    "ACT": (
        r"matarme|suicidarme|quitarme la vida|acabar con (?:mi vida|todo|mi existencia)|terminar con (?:mi vida|todo)|"
        r"colgarme|ahorcarme|tirarme (?:de|del|al|a las|a la|por)(?: \w+){1,3}|aventarme (?:de|del|al|a las|a la)(?: \w+){1,3}|"
        r"cortarme las venas|pegarme un tiro|darme un tiro|envenenarme|quitarme de en medio"
    ),
    "KIN": (
        r"mama|madre|papa|padre|padres|hermano|hermana|hijo|hija|hijos|bebe|amigo|amiga|novio|novia|pareja|esposo|esposa|"
        r"marido|mujer|primo|prima|tio|tia|abuelo|abuela|sobrino|sobrina|companero|companera|vecino|vecina|padrastro|"
        r"madrastra|ex|mejor amigo|mejor amiga"
    ),
    "DRUG": (
        r"pastillas|pildoras|medicamentos|medicinas|paracetamol(?:es)?|ibuprofenos?|somniferos|ansioliticos|antidepresivos|"
        r"clonazepam|rivotril|tafil|pastilla"
    ),
    "QTY": (
        r"todas|todos|un frasco|una caja|el frasco|la caja|muchas|un monton de|\d{2,}|veinte|treinta|cuarenta|cincuenta|"
        r"todo el frasco|toda la caja|todo el blister|toda la tira|todo el bote|"
        r"una tira|un blister"
    ),
}

CUES: dict[str, str] = {
    "negation": r"no|nunca|jamas|ni|tampoco|sin",
    "pseudo_negation": r"no se si|no se|no puedo dejar de|no dejo de|no paro de|no solo|no importa",
    "clause_break": r"pero|aunque|y|porque|cuando|si|pues|entonces|o|mientras|sin embargo|ya que",
    "retraction": (
        r"es broma|era broma|era una broma|es una broma|bromeaba|estaba bromeando|olvidalo|olvida lo que dije|"
        r"ya estoy bien|no te preocupes|no lo dije en serio|jk"
    ),
    "hyperbole": r"juego|nivel|partida|verguenza|que oso|cringe|risa|jaja|jajaja|xd",
    "fiction": (
        r"pelicula|serie|libro|novela|historia|personaje|capitulo|episodio|cancion|letra|poema|juego|anime|noticias|"
        r"noticia|periodico|articulo|reportaje|documental|ensayo|tarea|clase|estudio|estadisticas|tasa|famoso|actor|"
        r"actriz|cantante|protagonista"
    ),
    "third_subject": r"el|ella|ellos|ellas|(?:mi|mis|su|sus) (?:\w+ )?(?:{KIN})",
    "weapon": r"cuchillo|pistola|arma|navaja|escopeta|rifle|machete|pastillas",
    "threat_plan": r"se donde vive|esta noche|manana|hoy|ya lo decidi|lo tengo planeado",
    "trivial": r"jaja|jajaja|lol|xd|si se come|pastel|tarde|broma",
    "minor": (
        r"tengo (?:1[0-7]|[5-9]) anos|(?:1[0-7]|[5-9]) anos|(?:mi|mis) (?:hijos?|hijas?|sobrin[oa]s?|hermanit[oa]s?|bebe)|"
        r"menor de edad|en la (?:secundaria|prepa)|en el cole(?:gio)?"
    ),
    "underweight": (
        r"peso (?:[2-4]\d)(?:[.,]\d)? ?(?:kilos|kg)|bajo peso|imc (?:de )?(?:1[0-7]|[5-9])|muy delgad[oa]|ya estoy (?:flac[oa]|delgad[oa])"
    ),
    "soon": r"esta noche|ahora mismo|ahora|hoy|manana|ya mismo|en un rato|pronto|este fin de semana",
    "decided": r"voy a hacerlo|ya lo decidi|lo tengo decidido|esta decidido|no hay otra salida|lo voy a hacer",
    "accidental": r"por error|sin querer|por accidente|se me olvido|dosis doble",
    "see_you": r"hasta manana|hasta luego|nos vemos|buenas noches|hasta pronto|chao|cuidate",
    "despair": r"saltar|tirarme|aventarme|adios|ya no aguanto|se acabo|no puedo mas|matarme|morir",
    "treated": r"sali del hospital|salio del hospital|me dieron de alta|de alta del hospital|sali de urgencias",
    "cutting_context": r"corte|cortarme|corto|munecas?|brazos?|navaja|cuchilla|venas",
    "self_object": r"me mate|me suicide|me haga dano|me lastime|me tire|me corte|muera",
    "other_object": r"lo mate|la mate|los mate|le haga dano|matar a|lastimar a",
    "time_now": (
        r"ahora mismo|ahora|en este momento|esta noche|hoy|acabo de|acaba de|hace (?:\d+|un|una|unos|unas|media|diez|"
        r"veinte|treinta|cinco) (?:minutos?|horas?|hora)|anoche|esta manana|ayer"
    ),
    "time_recent": (
        r"hace (?:\d+|un|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|unos|unas|pocos|pocas|varios|varias) "
        r"(?:dias?|semanas?|meses|mes)|la semana pasada|el mes pasado|el ano pasado|recientemente|ultimamente|este ano|"
        r"esta semana|este mes|hace un ano"
    ),
    "time_past": r"antes|en el pasado|una vez|alguna vez|varias veces|anteriormente|sobreviviente|superviviente",
    "time_long_ago": (
        r"(?<!desde )hace (?:[2-9]|[1-9]\d|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|quince|veinte|muchos|varios|unos|algunos) anos|"
        r"(?<!desde )hace anos|(?<!desde )hace mucho(?: tiempo)?|de (?:nino|nina|pequeno|pequena|chico|chica|adolescente|joven)|"
        r"cuando era (?:nino|nina|pequeno|pequena|chico|chica|adolescente|joven|menor)|en mi (?:infancia|adolescencia|ninez)|"
        r"en (?:19\d\d|200\d|201\d)"
    ),
}

PAST_LOWERS = {T.PAST: L.CONCERN, T.LONG_AGO: L.CONCERN}
ATTEMPT_TIMES = {T.NOW: L.IMMINENT, T.RECENT: L.HIGH, T.PAST: L.ELEVATED, T.LONG_AGO: L.CONCERN}
SOON = Boost("soon", L.IMMINENT, reason="timing: now or very soon")

SUICIDE = (
    Rule(
        id="es.suicide.intent",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="states a wish or intent to kill themself",
        patterns=(
            r"(?:quiero|voy a|pienso|tengo ganas de|ganas de|necesito|deseo|quisiera|decidi|he decidido|lista para|listo para|"
            r"tengo que|debo|me gustaria|para) {ADV}(?:{ACT})",
            r"me (?:quiero|voy a|tengo que) (?:matar|suicidar|quitar la vida|colgar|ahorcar|tirar|aventar)",
            r"me mato(?! de| trabajando| estudiando| a trabajar)|me suicido",
            r"(?:estoy )?pensando (?:\w+ )?en (?:suicidarme|matarme|quitarme la vida|acabar con (?:todo|mi vida))",
        ),
        negated=L.CONCERN,
        softened=L.ELEVATED,
        boosts=(SOON,),
        examples=("quiero matarme", "me quiero suicidar", "si me deja me mato"),
    ),
    Rule(
        id="es.suicide.suicidal",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="says they are suicidal",
        patterns=(r"soy suicida|(?:estoy|me siento) {ADV}suicida",),
        timed=PAST_LOWERS,
        boosts=(SOON,),
        examples=("soy suicida",),
    ),
    Rule(
        id="es.suicide.ideation",
        category=C.SUICIDE,
        level=L.ELEVATED,
        reason="has thoughts of suicide",
        patterns=(
            r"pensamientos? suicidas?|ideas? suicidas?|ideacion suicida",
            r"(?:pienso|pensando|pense|he pensado|pensaba) {ADV}(?:mucho |a veces |todo el tiempo )?en (?:el suicidio|suicidarme|matarme|"
            r"quitarme la vida|la muerte|morirme|acabar con todo)",
        ),
        timed=PAST_LOWERS,
        examples=("tengo pensamientos suicidas", "pienso en el suicidio"),
    ),
    Rule(
        id="es.suicide.passive",
        category=C.SUICIDE,
        level=L.ELEVATED,
        reason="passive wish to be dead",
        patterns=(
            r"no quiero (?:seguir )?vivir|no quiero seguir viviendo|no quiero (?:seguir|estar) (?:aqui|viv[oa]|asi)|(?:quiero|quisiera) morir(?:me)?(?! de)",
            r"me quiero morir(?! de)|ganas de morir(?:me)?(?! de)|(?:desearia|quisiera|ojala) estar muert[oa]|prefiero estar muert[oa]",
            r"ojala (?:pudiera )?(?:dormirme|dormir) y no despertar(?: nunca)?|no (?:quiero|quisiera) despertar(?:me)?|ojala no despertar",
            r"(?:quisiera|quiero|desearia|me gustaria) no (?:volver a )?despertar(?:me)?",
            r"(?:quisiera|quiero|me gustaria|desearia|deseo) desaparecer(?: para siempre)?",
            r"(?:todos|todo el mundo|mi familia) (?:estarian|estaria) mejor sin mi|mejor sin mi",
            r"la vida no vale la pena|no vale la pena vivir|no me importa (?:si )?(?:vivir o )?morir(?:me)?|no me importa si me muero",
            r"cansad[oa] de vivir|no tengo (?:razones|motivos|nada) para vivir|para que seguir viviendo",
            r"ojala (?:me )?(?:muriera|muera|estuviera muert[oa]|no existiera|desapareciera|no hubiera nacido)",
        ),
        softened=L.CONCERN,
        boosts=(Boost("soon", L.HIGH, reason="timing: tonight or now"), Boost("decided", L.HIGH, Scope.MESSAGE, reason="says they have decided")),
        examples=("ya no quiero vivir", "todos estarian mejor sin mi", "me quiero morir"),
    ),
    Rule(
        id="es.suicide.attempt",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="suicide attempt",
        patterns=(
            r"(?:intente|trate de|trate|quise|he intentado|intento de|me intente) (?:\w+ )?(?:suicidarme|matarme|quitarme la vida|ahorcarme|"
            r"colgarme|tirarme|cortarme las venas|suicidar|matar)",
            r"(?:mi|un) intento de suicidio|(?:tome|hice) una sobredosis|me sobredosifique",
        ),
        timed=ATTEMPT_TIMES,
        drop_if=("treated",),
        examples=("intente suicidarme hace tres semanas",),
    ),
    Rule(
        id="es.suicide.attempt_treated",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="recent suicide attempt (treated in hospital)",
        patterns=(r"intento|sobredosis",),
        requires=("treated",),
        examples=("sali del hospital despues de mi intento",),
    ),
    Rule(
        id="es.suicide.attempt_now",
        category=C.SUICIDE,
        level=L.IMMINENT,
        reason="overdose taken or attempt in progress",
        patterns=(
            r"(?:tome|tomado|tomarme|trague|tragado|tragarme|bebi) (?:{QTY})(?: \w+){0,4}",
            r"me (?:tome|trague) (?:{QTY})",
        ),
        timed={T.RECENT: L.HIGH, T.PAST: L.ELEVATED, T.LONG_AGO: L.CONCERN},
        drop_if=("accidental",),
        examples=("acabo de tomarme todas las pastillas", "me tome un frasco entero de pastillas"),
    ),
    Rule(
        id="es.suicide.method",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="seeks a method, lethal dose or means",
        patterns=(
            r"dosis (?:letal|mortal)|cuant[oa]s? (?:\w+ ){0,3}(?:hay que tomar |necesito |se necesitan |para )(?:\w+ ){0,2}(?:morir|matarme|una sobredosis|no despertar)",
            r"como (?:suicidarme|matarme|morir sin dolor|hacer una sobredosis|hacer un nudo de horca)",
            r"(?:formas?|maneras?|metodos?) (?:\w+ ){0,2}de (?:suicidarse|suicidarme|morir|matarme)|morir sin dolor",
            r"(?:que|cuales|cual) (?:\w+ ){0,2}(?:pastillas|medicamentos|productos|quimicos|plantas) (?:\w+ ){0,2}(?:son|es) (?:mortales|mortal|letales|letal)",
        ),
        negated=None,
        examples=("cual es la dosis letal de paracetamol",),
    ),
    Rule(
        id="es.suicide.means",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="stockpiling medication or getting means for suicide",
        patterns=(
            r"(?:juntando|guardando|acumulando|ahorrando|junte|guarde|acumule|guardadas?|guardados) (?:\w+ ){0,3}(?:{DRUG})",
            r"(?:cuerda|soga|pistola|arma|pastillas|navaja)(?: \w+){0,3} para (?:matarme|suicidarme|ahorcarme|colgarme|quitarme la vida)",
        ),
        negated=None,
        examples=("estoy juntando pastillas",),
    ),
    Rule(
        id="es.suicide.means_now",
        category=C.SUICIDE,
        level=L.IMMINENT,
        reason="means at hand now",
        patterns=(r"(?:la |mi |las |mis )?(?:cuerda|soga|pistola|arma|pastillas|navaja) (?:esta |estan )?(?:lista|listas|listo|en mi mano|frente a mi)",),
        negated=None,
        examples=("tengo la cuerda lista",),
    ),
    Rule(
        id="es.suicide.preparation",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="plan or preparation for suicide",
        patterns=(
            r"carta de despedida|carta de suicidio|nota de suicidio|(?:regale|regalando|regalo) (?:todas )?mis cosas",
            r"tengo todo (?:planeado|preparado|listo|pensado)(?: \w+| ,| \.){0,5} (?:lo hare|lo voy a hacer)",
            r"(?:tengo|hice) un plan para (?:matarme|suicidarme|morir)",
        ),
        negated=None,
        examples=("ya escribi mi carta de despedida",),
    ),
    Rule(
        id="es.suicide.context_intent",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="intent, plan or means, in a conversation about suicide",
        patterns=(
            r"(?:voy a|quiero) hacerlo|lo (?:voy a hacer|hare) (?:hoy|esta noche|manana|ya)|(?:escogi|elegi) (?:la|el) (?:fecha|dia)",
            r"(?:tengo|compre|consegui) (?:\w+ ){0,2}(?:las pastillas|pastillas|una cuerda|la cuerda|una pistola|la pistola|un arma|una soga)",
        ),
        negated=L.CONCERN,
        needs=Context.SUICIDAL,
        boosts=(SOON,),
        examples=(),
    ),
    Rule(
        id="es.suicide.at_place",
        category=C.SUICIDE,
        level=L.IMMINENT,
        reason="at a place to end their life",
        patterns=(
            r"(?:estoy|me encuentro) (?:\w+ ){0,2}(?:en|sobre|arriba de|al borde de|en la orilla de) (?:el |la |las |los |un |una |mi )?"
            r"(?:puente|azotea|techo|tejado|vias|via del tren|barranco|acantilado|balcon|cornisa|edificio)",
        ),
        negated=None,
        needs=Context.SUICIDAL,
        context_cue="despair",
        examples=(),
    ),
    Rule(
        id="es.suicide.farewell",
        category=C.SUICIDE,
        level=L.IMMINENT,
        reason="farewell message",
        patterns=(
            r"adios (?:a todos|para siempre|mundo)|(?:este|esta) es mi (?:despedida|ultimo mensaje|ultima carta|ultima despedida|adios)",
            r"mi ultimo mensaje|no (?:volveran|van a volver) a saber de mi|(?:es )?la ultima vez que (?:les|te) escribo",
            r"(?:diganle|dile|digan) a (?:mi|mis) (?:\w+ ){0,2}que (?:l[oae]s? )?(?:quiero|amo)",
            r"cuando (?:lean|leas) esto (?:ya )?no (?:estare|voy a estar) (?:aqui|viv[oa])",
            r"gracias por todo(?: \.| ,)? (?:adios|los quiero|las quiero|te quiero)|perdon por todo(?: \.| ,)? adios|adios(?: ,| \.)? gracias por todo",
        ),
        negated=None,
        drop_if=("see_you",),
        examples=("adios a todos",),
    ),
)

LEXICON = Lexicon(language="es", markers=MARKERS, slang=SLANG, macros=MACROS, cues=CUES, rules=SUICIDE + OTHER)
