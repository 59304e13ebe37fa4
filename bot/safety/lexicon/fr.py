"""French: slang, macros, cues and rules. Elisions are split ("j ai", "m endormir")."""

from __future__ import annotations

from bot.safety.levels import Category as C
from bot.safety.levels import RiskLevel as L
from bot.safety.lexicon.fr_other import OTHER
from bot.safety.rules import Boost, Context, Lexicon, Rule, Scope, TimeClass as T

MARKERS = frozenset(
    "je j ai suis le la les de des et est pas ne me mon ma mes c ca que qui en un une moi tout veux plus "
    "jveux jsuis chui jvais jme envie vie mourir tuer".split()
)

SLANG: dict[str, str] = {
    "jveux": "je veux",
    "jvx": "je veux",
    "veu": "veux",
    "jvais": "je vais",
    "jvai": "je vais",
    "jsuis": "je suis",
    "jsui": "je suis",
    "chui": "je suis",
    "chuis": "je suis",
    "sui": "suis",
    "jme": "je me",
    "jai": "j ai",
    "g": "j ai",
    "jpeux": "je peux",
    "jpense": "je pense",
    "jen": "j en",
    "jpp": "j en peux plus",
    "tt": "tous",
    "medoc": "medicament",
    "medocs": "medicaments",
    "pri": "pris",
    "mourrir": "mourir",
    "mourire": "mourir",
    "mourri": "mourir",
    "suicid": "suicide",
    "sucide": "suicide",
    "suiside": "suicide",
    "jamai": "jamais",
    "tjr": "toujours",
    "tjrs": "toujours",
    "pk": "pourquoi",
    "bcp": "beaucoup",
    "slt": "salut",
    "pr": "pour",
    "qd": "quand",
    "ki": "qui",
    "ke": "que",
    "koi": "quoi",
    "ptdr": "mdr",
    "aujourdhui": "aujourd hui",
}

MACROS: dict[str, str] = {
    "ADV": (
        r"(?:(?:vraiment|tellement|tres|trop|encore|toujours|un peu|completement|souvent|parfois|de plus en plus|"
        r"serieusement|grave|juste|simplement|enfin|deja|bien) )*"
    ),
    "ACT": (
        r"me tuer|me suicider|me suicide|mettre fin a (?:mes jours|ma vie)|en finir(?! avec (?!la vie|ma vie|tout|mes jours))|"
        r"me foutre en l air|me flinguer|me pendre|me jeter (?:sous|du|d un|par|de)(?: \w+){1,3}|"
        r"sauter (?:du|d un|de la|par la|de l)(?: \w+){1,2}|m ouvrir les veines|me couper les veines|"
        r"faire une (?:ts|overdose|od)|me tirer une balle|me noyer|m empoisonner|mourir ce soir"
    ),
    "KIN": (
        r"mere|pere|parents|frere|soeur|fils|fille|enfant|enfants|bebe|ami|amie|amis|copain|copine|pote|mari|femme|"
        r"conjoint|conjointe|cousin|cousine|oncle|tante|grand mere|grand pere|niece|neveu|coloc|collegue|voisin|"
        r"voisine|beau pere|belle mere|ex|meilleur ami|meilleure amie|petit frere|petite soeur"
    ),
    "SUBJ3": r"il|elle|ils|elles|(?:mon|ma|mes|son|sa|ses) (?:\w+ )?(?:{KIN})|qui",
    "DRUG": (
        r"medicaments?|cachets|comprimes|pilules|medocs|doliprane|dafalgan|efferalgan|paracetamol|somniferes|"
        r"anxiolytiques|antidepresseurs|xanax|lexomil|tramadol|insuline"
    ),
    "QTY": (
        r"toute la boite|toute la plaquette|tous mes|toutes mes|tout le tube|tous les|toutes les|tout les|une boite|toute ma boite|"
        r"tout mon tube|toute ma plaquette|tout le flacon|toute la bouteille|"
        r"la boite|plein de|des dizaines de|\d{2,}|trente|vingt|quarante|cinquante|soixante"
    ),
}

CUES: dict[str, str] = {
    "negation": r"pas|jamais|aucun|aucune|sans|ni|rien|non|guere",
    "pseudo_negation": (
        r"(?:je )?(?:ne )?sais (?:pas|plus) si|pas sur|pas sure|pas que|(?:n )?arrete pas de|(?:ne )?peux pas m empecher|"
        r"pas seulement|pas mal|ne fait que|n y a pas un jour"
    ),
    "clause_break": r"mais|et|car|parce que|donc|quand|si|alors|pourtant|puis|ou|sauf|lorsque|comme",
    "retraction": (
        r"c est une blague|c etait une blague|je rigole|je rigolais|je plaisante|je plaisantais|laisse tomber|oublie|"
        r"oublie ca|je vais bien maintenant|t inquiete|pas serieux|c etait pas serieux|jk"
    ),
    "hyperbole": r"jeu|niveau|boss|partie|genant|la honte|trop drole|mdr|lol|rire",
    "fiction": (
        r"film|serie|livre|roman|histoire|personnage|chapitre|episode|chanson|paroles|poeme|jeu|manga|infos|"
        r"informations|actualites|article|journal|reportage|documentaire|expose|dissertation|essai|cours|etude|"
        r"statistiques|taux|celebrite|acteur|actrice|chanteur|heros|heroine"
    ),
    "third_subject": r"il|elle|ils|elles|(?:mon|ma|mes|son|sa|ses) (?:\w+ )?(?:{KIN})",
    "weapon": r"couteau|arme|fusil|pistolet|flingue|lame|hache|batte|medicaments|cachets",
    "threat_plan": r"sais ou (?:il|elle) (?:habite|vit|bosse)|ce soir|demain|cette nuit|j ai (?:un couteau|une arme)|c est decide",
    "trivial": r"mdr|lol|ptdr|mange|gateaux?|en retard|jk|s il recommence a (?:chanter|parler)|blague",
    "minor": (
        r"j ai (?:1[0-7]|[5-9]) ans|(?:1[0-7]|[5-9]) ans|au college|au lycee|en (?:sixieme|cinquieme|quatrieme|troisieme|"
        r"seconde|premiere|terminale)|(?:mon|ma|mes) (?:fils|fille|enfants?|petit frere|petite soeur|bebe|niece|neveu)|"
        r"mineure?|ado|adolescente?"
    ),
    "underweight": (
        r"sous poids|trop maigre|deja maigre|imc (?:de |a |est de )?(?:1[0-7]|[5-9])(?:[.,]\d)?|"
        r"(?:pese|fais|suis a) (?:[2-4]\d)(?:[.,]\d)? ?(?:kg|kilos)|(?:[2-4]\d) ?(?:kilos|kg) pour 1m\d+|(?:[2-4]\d)kg"
    ),
    "soon": r"ce soir|cette nuit|maintenant|la maintenant|aujourd hui|tout de suite|demain|bientot|ce week end|samedi|dimanche",
    "decided": r"c est decide|j ai decide|ma decision est prise|je suis decide|je suis decidee|pas d autre solution",
    "accidental": r"par erreur|par accident|sans faire expres|oublie|en double",
    "see_you": r"a demain|a plus|a bientot|bonne nuit|a tout a l heure|a la prochaine|bonne soiree|a ce soir",
    "despair": r"sauter|adieu|c est fini|en finir|j en peux plus|je vais le faire|me jeter|mourir|fini pour moi|me tuer",
    "treated": r"sortie? de l hopital|sorti\w* de l hopital|rentre\w* de l hopital|sortie? des urgences|sorti\w* des urgences",
    "cutting_context": r"coupe\w*|poignets?|lame|rasoir|scarif\w*|bras|veines",
    "self_object": r"me tuer|me suicider|me faire du mal|me blesser|me couper|mourir|sauter",
    "other_object": r"le tuer|la tuer|les tuer|le frapper|la frapper|tuer (?:mon|ma|mes)|faire du mal a",
    "time_now": (
        r"maintenant|la maintenant|en ce moment|ce soir|cette nuit|aujourd hui|tout de suite|je viens de|viens de|vient de|"
        r"il y a (?:\d+|une|deux|trois|quelques|dix|vingt|trente) (?:minutes?|heures?)|hier|hier soir|ce matin|cet apres midi"
    ),
    "time_recent": (
        r"il y a (?:\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quelques|plusieurs) (?:jours?|semaines?|mois)|"
        r"la semaine derniere|le mois dernier|l an dernier|l annee derniere|recemment|dernierement|cette (?:semaine|annee)|"
        r"ce mois ci|il y a un an"
    ),
    "time_past": r"avant|dans le passe|autrefois|une fois|plusieurs fois|par le passe|a l epoque|survivante?",
    "time_long_ago": (
        r"il y a (?:[2-9]|[1-9]\d|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|quinze|vingt|trente|plusieurs|des|quelques) ans|"
        r"il y a longtemps|il y a des annees|quand j etais (?:petit|petite|enfant|ado|adolescent|adolescente|jeune|au college|"
        r"au lycee|gamin|gamine)|(?:dans|pendant) mon enfance|adolescence|a l age de \d+ ans|en (?:19\d\d|200\d|201\d)|"
        r"(?:quand j etais|etant) (?:enfant|petite?)"
    ),
}

PAST_LOWERS = {T.PAST: L.CONCERN, T.LONG_AGO: L.CONCERN}
ATTEMPT_TIMES = {T.NOW: L.IMMINENT, T.RECENT: L.HIGH, T.PAST: L.ELEVATED, T.LONG_AGO: L.CONCERN}
SOON = Boost("soon", L.IMMINENT, reason="timing: now or very soon")
MINOR_HIGH = Boost("minor", L.HIGH, Scope.MESSAGE, category=C.CHILD_SAFETY, reason="a minor")
MINOR_CATEGORY = Boost("minor", L.ELEVATED, Scope.MESSAGE, category=C.CHILD_SAFETY)

SUICIDE = (
    Rule(
        id="fr.suicide.intent",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="states a wish or intent to kill themself",
        patterns=(
            r"(?:veux|voudrais|vais|compte|dois|devrais|pense|envie de|envie d|besoin de|besoin d|pret a|prete a|decide de|decide d|"
            r"decidee de|decidee d|essayer de|essayer d|pourrais|souhaite|voulais) (?:{ADV})?(?:{ACT})",
            r"(?:je|j) (?:\w+ ){0,3}me tuer|(?:je|j) me tue(?! au| a la| a force)|(?:je|j) me suicide",
            r"(?:je pense|j envisage) (?:{ADV})?(?:a me (?:tuer|suicider)|de me (?:tuer|suicider)|le suicide|d en finir|au suicide serieusement)",
        ),
        negated=L.CONCERN,
        softened=L.ELEVATED,
        boosts=(SOON,),
        examples=("je veux me tuer", "j ai envie de me suicider", "je vais mettre fin a mes jours"),
    ),
    Rule(
        id="fr.suicide.bare",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="speaks of killing themself",
        patterns=(r"me suicider|mettre fin a mes jours|me foutre en l air|m ouvrir les veines|me pendre",),
        negated=L.CONCERN,
        fallback=True,
        boosts=(SOON,),
        examples=("me pendre",),
    ),
    Rule(
        id="fr.suicide.suicidal",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="says they are suicidal",
        patterns=(r"(?:je suis|suis|je me sens|me sens) {ADV}suicidaire",),
        timed=PAST_LOWERS,
        boosts=(SOON,),
        examples=("je suis suicidaire",),
    ),
    Rule(
        id="fr.suicide.ideation",
        category=C.SUICIDE,
        level=L.ELEVATED,
        reason="has thoughts of suicide",
        patterns=(
            r"(?:idees|pensees) (?:suicidaires|noires|de mort|de suicide)|envies? suicidaires?",
            r"(?:pense|pensais|pensee|pensees|penser) {ADV}(?:au suicide|a me (?:tuer|suicider)|a la mort|a en finir|a mourir)",
            r"suicidaire",
        ),
        timed=PAST_LOWERS,
        drop_if=("fiction",),
        examples=("j ai des idees noires", "je pense au suicide"),
    ),
    Rule(
        id="fr.suicide.passive",
        category=C.SUICIDE,
        level=L.ELEVATED,
        reason="passive wish to be dead",
        patterns=(
            r"(?:veux|voudrais|veut) {ADV}mourir(?! de)|(?:envie|hate) de mourir(?! de)",
            r"(?:voudrais|aimerais|veux) {ADV}(?:m endormir (?:et|pour) ne (?:jamais|plus|pas) me reveiller|ne (?:plus|jamais|pas) me reveiller)",
            r"m endormir (?:et|pour) (?:ne )?(?:jamais|plus) (?:me )?reveiller|ne (?:jamais|plus) me reveiller",
            r"(?:n )?(?:ai )?plus envie de vivre|(?:ne )?veux plus (?:vivre|etre la|etre en vie|exister)",
            r"la vie ne vaut (?:pas|plus) la peine|ca ne vaut plus la peine de vivre",
            r"(?:tout le monde|ils|ma famille|les autres|le monde|mes proches) (?:serai(?:en)?t|seront) mieux sans moi|mieux sans moi",
            r"(?:tout le monde|ils|ma famille|les autres|mes proches) (?:serai(?:en)?t|irai(?:en)?t|seront|iront) mieux si je (?:n etais|n existais|ne suis) plus (?:la|en vie)",
            r"souhaite (?:etre|que je sois) mort\w*|(?:j )?aimerais (?:etre )?mort\w*|aimerais disparaitre|veux disparaitre pour toujours",
            r"(?:me )?(?:derangerait|generait) pas de mourir|prefererais (?:etre mort\w*|mourir)|marre de (?:vivre|la vie)|fatigue\w* de vivre",
            r"(?:plus|aucune) (?:de )?raisons? de vivre|a quoi bon vivre|(?:pas|plus|jamais) me reveiller demain",
            r"(?:aimerais|voudrais|veux|prefererais) {ADV}ne (?:plus|pas) exister|envie de ne plus exister",
            r"(?:voudrais|aimerais|veux|envie de) {ADV}disparaitre(?! (?:sous|dans|de la|du|quelques|une|un|pour le week))",
        ),
        softened=L.CONCERN,
        boosts=(Boost("soon", L.HIGH, reason="timing: tonight or now"), Boost("decided", L.HIGH, Scope.MESSAGE, reason="says they have decided")),
        examples=("je veux mourir", "tout le monde serait mieux sans moi", "j ai plus envie de vivre"),
    ),
    Rule(
        id="fr.suicide.attempt",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="suicide attempt",
        patterns=(
            r"(?:essaye|essayee|tente|tentee|voulu) de me (?:tuer|suicider|pendre|jeter|noyer|tirer)",
            r"(?:j ai|je viens de|j ai deja|ai|ma) (?:\w+ )?(?:fait )?(?:une |ma )?(?:ts|tentative(?: de suicide)?|od|overdose|surdose)",
        ),
        timed=ATTEMPT_TIMES,
        drop_if=("treated",),
        examples=("j ai fait une ts il y a deux semaines", "j ai essaye de me suicider"),
    ),
    Rule(
        id="fr.suicide.attempt_treated",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="recent suicide attempt (treated in hospital)",
        patterns=(r"tentative|ts|overdose|od",),
        requires=("treated",),
        examples=("je suis sortie de l hopital apres ma tentative",),
    ),
    Rule(
        id="fr.suicide.attempt_now",
        category=C.SUICIDE,
        level=L.IMMINENT,
        reason="overdose taken or attempt in progress",
        patterns=(
            r"(?:prendre|pris|avaler|avale|gober|gobe) (?:{QTY})(?: \w+){0,3}",
            r"(?:\d{2,}|trente|vingt|quarante|cinquante) (?:{DRUG})",
            r"(?:deja|viens de) (?:pris|avale|prendre|avaler) (?:tous|toutes|tout|les|mes) (?:\w+ )?(?:{DRUG})",
        ),
        timed={T.RECENT: L.HIGH, T.PAST: L.ELEVATED, T.LONG_AGO: L.CONCERN},
        drop_if=("accidental",),
        examples=("je viens de prendre toute la boite de medicaments", "j ai pris 30 doliprane"),
    ),
    Rule(
        id="fr.suicide.method",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="seeks a method, lethal dose or means",
        patterns=(
            r"dose (?:mortelle|letale|fatale)|(?:combien|quelle quantite) de (?:\w+ ){0,3}(?:pour|faut il pour|avant de) "
            r"(?:mourir|en finir|ne (?:pas|plus) (?:me |se )?reveiller|y passer|faire une overdose|etre sure? de mourir)",
            r"comment (?:me suicider|me tuer|mourir|en finir|faire une (?:overdose|od)|faire un noeud coulant)",
            r"(?:methodes?|facons?|moyens?|manieres?) (?:\w+ ){0,3}de (?:me suicider|mourir|se suicider|en finir|me tuer)",
            r"(?:quel|quels|quelle|quelles) (?:\w+ ){0,2}(?:medicaments?|cachets|produits?|plantes?) (?:\w+ ){0,2}(?:est|sont) (?:mortel\w*|letal\w*)",
            r"(?:sans douleur|indolore) pour (?:mourir|en finir)|mourir sans (?:douleur|souffrir)",
        ),
        negated=None,
        examples=("quelle est la dose mortelle de paracetamol",),
    ),
    Rule(
        id="fr.suicide.means",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="stockpiling medication or getting means for suicide",
        patterns=(
            r"(?:garde|gardes|garder|stocke|stocker|accumule|accumuler|mets|met|mis) (?:\w+ ){0,3}(?:{DRUG}) de cote",
            r"(?:fait|fais|faire) des reserves de (?:\w+ )?(?:{DRUG})|(?:stocke|accumule) (?:\w+ ){0,2}(?:{DRUG})",
            r"(?:corde|arme|fusil|pistolet|cachets|medicaments|lame)(?: \w+){0,3} pour me (?:pendre|tuer|suicider|tirer dessus)",
        ),
        negated=None,
        examples=("j ai fait des reserves de cachets",),
    ),
    Rule(
        id="fr.suicide.means_now",
        category=C.SUICIDE,
        level=L.IMMINENT,
        reason="means at hand now",
        patterns=(
            r"(?:la |ma |les |mes )?(?:corde|arme|flingue|pistolet|cachets|medicaments|lame) (?:est |sont )?(?:prete?s?|a cote de moi|"
            r"dans ma main|devant moi|alignee?s?)",
        ),
        negated=None,
        examples=("j ai la corde prete",),
    ),
    Rule(
        id="fr.suicide.preparation",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="plan or preparation for suicide",
        patterns=(
            r"lettre d adieu|lettre de suicide|mot d adieu|(?:donne|distribue) (?:toutes )?mes affaires",
            r"tout (?:prevu|planifie|organise)(?: \w+| ,| \.){0,4} (?:je le ferai|je vais le faire|je le fais)",
            r"(?:j ai )?un plan pour (?:me tuer|me suicider|en finir|mourir)",
        ),
        negated=None,
        examples=("j ai ecrit ma lettre d adieu",),
    ),
    Rule(
        id="fr.suicide.context_intent",
        category=C.SUICIDE,
        level=L.HIGH,
        reason="intent, plan or means, in a conversation about suicide",
        patterns=(
            r"(?:je vais|vais|je veux|je compte) (?:le faire|passer a l acte|recommencer)|(?:je le ferai|je le fais) (?:ce soir|demain|maintenant|bientot)",
            r"(?:choisi|fixe) (?:la|une) date|j ai (?:tout|ce qu il faut)(?: pret)?",
            r"(?:achete|trouve|prepare|j ai) (?:\w+ ){0,2}(?:une corde|la corde|un fusil|une arme|un pistolet|des cachets|les cachets|des medicaments)",
        ),
        negated=L.CONCERN,
        needs=Context.SUICIDAL,
        boosts=(SOON,),
        examples=(),
    ),
    Rule(
        id="fr.suicide.at_place",
        category=C.SUICIDE,
        level=L.IMMINENT,
        reason="at a place to end their life",
        patterns=(
            r"(?:je suis|suis|je me trouve) (?:\w+ ){0,2}(?:sur|au bord du|au bord de la|en haut du|en haut de la|sur le toit de|devant) "
            r"(?:le |la |l |un |une |mon )?(?:pont|toit|falaise|voie ferree|voies|rails|quai|balcon|fenetre|immeuble|rebord)",
        ),
        negated=None,
        needs=Context.SUICIDAL,
        context_cue="despair",
        examples=(),
    ),
    Rule(
        id="fr.suicide.farewell",
        category=C.SUICIDE,
        level=L.IMMINENT,
        reason="farewell message",
        patterns=(
            r"adieu (?:a tous|tout le monde|pour toujours|le monde)|c est un adieu|(?:c est |voici )?mon dernier message",
            r"(?:dites|dis) a (?:ma|mon|mes) (?:\w+ ){0,2}que je (?:l |les |t |vous )?aime",
            r"quand vous lirez (?:ce message|ceci)(?: \w+){0,3} je ne serai plus (?:la|en vie)",
            r"au revoir pour toujours|pardon pour tout(?: \.| ,)? (?:adieu|au revoir)|merci pour tout(?: \.| ,)? (?:adieu|je vous aime|je t aime)",
            r"je ne serai plus la demain|c est fini pour moi",
            r"c est la derniere fois que (?:je vous|je te) (?:ecris|parle)|vous ne me reverrez (?:plus|jamais)|derniers? adieux?",
        ),
        negated=None,
        drop_if=("see_you",),
        examples=("adieu a tous", "c est mon dernier message"),
    ),
)

LEXICON = Lexicon(language="fr", markers=MARKERS, slang=SLANG, macros=MACROS, cues=CUES, rules=SUICIDE + OTHER)
