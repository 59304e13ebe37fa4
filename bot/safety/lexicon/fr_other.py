"""French rules beyond suicide: self-harm, eating disorders, substances, abuse, child safety,
harm to others, psychosis, third parties, bereavement and hopelessness."""

from __future__ import annotations

from bot.safety.levels import Category as C
from bot.safety.levels import RiskLevel as L
from bot.safety.rules import Boost, Context, Rule, Scope, TimeClass as T

PAST_LOWERS = {T.PAST: L.CONCERN, T.LONG_AGO: L.CONCERN}
MINOR_HIGH = Boost("minor", L.HIGH, Scope.MESSAGE, category=C.CHILD_SAFETY, reason="a minor")
MINOR_CATEGORY = Boost("minor", L.ELEVATED, Scope.MESSAGE, category=C.CHILD_SAFETY)

OTHER = (
    Rule(
        id="fr.self_harm.act",
        category=C.SELF_HARM,
        level=L.ELEVATED,
        reason="self-harm",
        patterns=(
            r"(?:je )?me (?:scarifie|scarifiais|mutile|mutilais|brule|brulais|griffe|fais du mal|faisais du mal|blesse expres)",
            r"(?:je )?me coupe(?:s|ais)?(?! les cheveux| les ongles| le doigt| en cuisinant| du monde)|me suis coupee? (?:les bras|les poignets|expres|volontairement)",
            r"me suis (?:encore |de nouveau )?(?:scarifiee?|mutilee?|brulee? expres|fait du mal)",
            r"scarification|automutilation|auto mutilation|envie de me (?:couper|scarifier|faire du mal|mutiler)|me faire du mal",
        ),
        timed=PAST_LOWERS,
        boosts=(MINOR_CATEGORY,),
        examples=("je me scarifie quand ca va pas", "je me fais du mal expres"),
    ),
    Rule(
        id="fr.self_harm.bleeding",
        category=C.SELF_HARM,
        level=L.IMMINENT,
        reason="serious bleeding from self-harm now",
        patterns=(
            r"coupee? trop profond|(?:ca )?saigne (?:beaucoup|enormement|trop|sans arret)|(?:s arrete|arrete) pas de saigner",
            r"du sang partout|je perds (?:beaucoup de|trop de) sang",
        ),
        negated=None,
        needs=Context.SUICIDAL,
        context_cue="cutting_context",
        examples=(),
    ),
    Rule(
        id="fr.eating.behaviour",
        category=C.EATING_DISORDER,
        level=L.ELEVATED,
        reason="eating-disorder behaviour (purging, restricting, starving)",
        patterns=(
            r"(?:je )?me fais vomir|me faire vomir|vomi\w* (?:apres|expres)|vomi\w*(?: \w+){0,4} pour (?:ne pas grossir|maigrir|perdre du poids)|je (?:ne )?mange (?:presque )?plus(?: rien)? pour maigrir",
            r"(?:bu|avale|bois) (?:de la |du |de l )?(?:javel|eau de javel|poison|mort aux rats|antigel|destop)|"
            r"\d{2,4} calories par jour|me prive de (?:manger|nourriture)|laxatifs|(?:je suis )?(?:anorexique|boulimique)|pro ana",
            r"je m affame|jeun\w* pour maigrir|(?:mon|mes) (?:tca|troubles? alimentaires?)",
        ),
        timed=PAST_LOWERS,
        boosts=(MINOR_CATEGORY,),
        examples=("je me fais vomir apres chaque repas",),
    ),
    Rule(
        id="fr.eating.weight_loss",
        category=C.EATING_DISORDER,
        level=L.NONE,
        reason="asks to lose weight while underweight",
        patterns=(r"(?:perdre|maigrir|descendre a|atteindre|perde) (?:encore )?(?:\d+ )?(?:kilos|kg|de poids|plus)?",),
        negated=None,
        boosts=(Boost("underweight", L.HIGH, Scope.SESSION, reason="while underweight"),),
        examples=("je veux perdre encore 5 kilos",),
    ),
    Rule(
        id="fr.substance.numbing",
        category=C.SUBSTANCE,
        level=L.ELEVATED,
        reason="uses alcohol or drugs to numb or cope",
        patterns=(
            r"(?:bois|boire|fume|fumer|prends|prendre|me defonce|me bourre) (?:\w+ ){0,6}pour (?:oublier|ne plus (?:rien )?(?:ressentir|sentir|penser)|"
            r"tenir|supporter|m evader|ne rien (?:ressentir|sentir)|anesthesier|arreter de penser)",
        ),
        timed=PAST_LOWERS,
        examples=("je bois tous les soirs pour oublier",),
    ),
    Rule(
        id="fr.abuse.sexual",
        category=C.ABUSE,
        level=L.ELEVATED,
        reason="sexual abuse or assault disclosed",
        patterns=(
            r"(?:j ai ete|je suis|j etais|je me suis fait|je me fais) (?:\w+ )?(?:violee?|abusee? sexuellement|agressee? sexuellement|attouchee?)",
            r"me (?:viole|violait|touche|touchait|force a|forcait a)(?! pas)|attouchements|abus sexuels?|viol",
        ),
        timed=PAST_LOWERS,
        boosts=(MINOR_HIGH,),
        examples=("mon beau pere me touche la nuit", "j ai ete violee il y a un mois"),
    ),
    Rule(
        id="fr.abuse.physical",
        category=C.ABUSE,
        level=L.ELEVATED,
        reason="physical or emotional abuse disclosed",
        patterns=(
            r"(?:il|elle|ils|mon \w+(?: \w+)?|ma \w+(?: \w+)?) (?:\w+ ){0,3}me (?:frappe|frappait|bat|battait|tape|tapait|cogne|etrangle|menace|"
            r"insulte|humilie|maltraite|maltraitait|brutalise|gifle|giflait)",
            r"(?:j ai ete|je suis|j etais|je me fais) (?:\w+ )?(?:battue?|frappee?|maltraitee?)|violences? (?:conjugales|familiales)",
            r"(?:il|elle) est (?:\w+ )?violente?|relation (?:toxique et )?violente|se font battre",
        ),
        timed=PAST_LOWERS,
        boosts=(MINOR_CATEGORY,),
        examples=("mon mari me frappe quand il a bu",),
    ),
    Rule(
        id="fr.abuse.violence_now",
        category=C.ABUSE,
        level=L.IMMINENT,
        reason="violence happening now",
        patterns=(
            r"(?:il|elle|ils|elles|(?:mon|ma|mes) (?:\w+ )?\w+) (?:est|sont) en train de (?:me |nous |la |le |les )?(?:frapper|battre|taper|etrangler|tuer)"
            r"(?: (?:ma|mon|mes) \w+)?",
            r"(?:il|elle) (?:essaie|essaye|tente) de (?:defoncer|enfoncer|casser) la porte",
        ),
        negated=None,
        examples=("il est en train de me frapper",),
    ),
    Rule(
        id="fr.abuse.threat_to_user",
        category=C.ABUSE,
        level=L.HIGH,
        reason="threatened with death or serious harm",
        patterns=(r"(?:menace|menacee|menacait|menacer) de me tuer|(?:il|elle) (?:m )?(?:a dit|dit) qu (?:il|elle) (?:va|allait|voulait) me tuer",),
        negated=None,
        drop_if=("trivial",),
        examples=("il a menace de me tuer",),
    ),
    Rule(
        id="fr.child.at_risk",
        category=C.CHILD_SAFETY,
        level=L.ELEVATED,
        reason="a child may be being abused or neglected",
        patterns=(
            r"(?:enfants?|fils|fille|bebe|petit|petite|niece|neveu)(?: \w+){0,3} (?:se font|se fait|sont|est) (?:battre|battue?s?|frappee?s?|maltraitee?s?|abusee?s?)",
            r"(?:enfants?|fils|fille|bebe) (?:\w+ ){0,3}(?:a|ont) (?:toujours )?des bleus",
        ),
        examples=("je crois que les enfants du voisin se font battre",),
    ),
    Rule(
        id="fr.others.threat",
        category=C.HARM_TO_OTHERS,
        level=L.ELEVATED,
        reason="threat or intent to hurt a person",
        patterns=(
            r"je vais (?:le|la|les|te) (?:tuer|buter|crever|planter|poignarder|flinguer|descendre|frapper)",
            r"(?:je vais|je veux|jvais) (?:tuer|buter|planter|poignarder|flinguer|frapper) (?:mon|ma|mes|le|la|ce|cette) "
            r"(?:\w+ )?(?:{KIN}|voisin|voisine|patron|patronne|prof|collegue|mec|type|connard|meuf)",
        ),
        negated=L.NONE,
        drop_if=("trivial",),
        boosts=(
            Boost("weapon", L.HIGH, Scope.MESSAGE, reason="with a weapon"),
            Boost("threat_plan", L.HIGH, Scope.MESSAGE, reason="with a plan or time"),
        ),
        examples=("je vais le tuer",),
    ),
    Rule(
        id="fr.psychosis.command",
        category=C.PSYCHOSIS,
        level=L.HIGH,
        reason="command hallucinations to harm",
        patterns=(
            r"(?:voix|quelqu un dans ma tete)(?: \w+){0,3} (?:me disent|me dit|m ordonnent|m ordonne|me demandent|me demande|me poussent) "
            r"(?:de|a) (?:me |le |la |les )?(?:tuer|suicider|faire du mal|blesser|sauter|mourir|frapper|couper)",
        ),
        negated=None,
        boosts=(Boost("self_object", L.HIGH, category=C.SELF_HARM), Boost("other_object", L.HIGH, category=C.HARM_TO_OTHERS)),
        examples=("les voix me disent de me tuer",),
    ),
    Rule(
        id="fr.psychosis.symptoms",
        category=C.PSYCHOSIS,
        level=L.ELEVATED,
        reason="hears voices or describes paranoid or psychotic experiences",
        patterns=(
            r"(?:j )?entends des voix|des voix dans ma tete|on (?:m espionne|me surveille|me suit)|(?:lisent|lit) (?:dans )?mes pensees",
            r"puce dans (?:ma|la) tete|je suis (?:surveillee?|suivie?|espionnee?)",
        ),
        timed=PAST_LOWERS,
        examples=("j entends des voix",),
    ),
    Rule(
        id="fr.third.suicide",
        category=C.SUICIDE,
        level=L.ELEVATED,
        reason="someone else may be at risk of suicide or self-harm",
        patterns=(
            r"(?:{SUBJ3}) (?:\w+ ){0,4}(?:veut|voulait|va|allait|a essaye de|a tente de|menace de|parle de|pense a) "
            r"(?:se (?:tuer|suicider|pendre|faire du mal|scarifier)|mettre fin a ses jours|en finir|mourir)",
            r"(?:{SUBJ3}) (?:\w+ ){0,2}(?:se scarifie|se mutile|se coupe|se fait du mal|est suicidaire)",
        ),
        timed=PAST_LOWERS,
        third_party=True,
        drop_if=("fiction",),
        boosts=(Boost("soon", L.HIGH, reason="timing: now or tonight"), Boost("weapon", L.HIGH, Scope.MESSAGE, reason="with means")),
        examples=("mon meilleur ami veut se suicider",),
    ),
    Rule(
        id="fr.third.emergency",
        category=C.SUICIDE,
        level=L.IMMINENT,
        reason="someone else's overdose or attempt is happening now",
        patterns=(r"(?:{SUBJ3}) (?:vient|viennent) d (?:avaler|prendre) (?:plein de|toute|tous|toutes|une boite)(?: \w+){0,3}",),
        negated=None,
        third_party=True,
        examples=("mon amie vient d avaler plein de pilules",),
    ),
    Rule(
        id="fr.third.bereaved",
        category=C.SUICIDE,
        level=L.CONCERN,
        reason="bereaved by suicide",
        patterns=(
            r"(?:mon|ma|mes|son|sa) (?:\w+ ){0,2}(?:s est suicidee?|se sont suicides|s est donne la mort|s est pendue?|a mis fin a ses jours)",
            r"perdu (?:mon|ma|un|une) (?:\w+ ){0,2}(?:par|a cause du) suicide|suicide de (?:mon|ma) \w+",
        ),
        negated=None,
        third_party=True,
        drop_if=("fiction",),
        examples=("mon frere s est suicide",),
    ),
    Rule(
        id="fr.risk_factor.hopeless",
        category=C.SUICIDE,
        level=L.CONCERN,
        reason="hopelessness, entrapment or feeling a burden",
        patterns=(
            r"desespere\w*|sans espoir|plus d espoir|aucun espoir|rien ne (?:changera|va changer|s arrangera)",
            r"(?:je suis|suis) un (?:fardeau|poids)|un poids pour (?:tout le monde|ma famille|les autres)|pieg\w*|pas d issue|aucune issue",
            r"(?:j )?en peux plus|je suis a bout|a bout de force|tout s effondre|je ne sers a rien|a quoi bon",
        ),
        examples=("je suis un fardeau pour ma famille",),
    ),
)
