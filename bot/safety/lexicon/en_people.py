"""English rules about other people: abuse, child safety, harm to others, third parties at
risk and bereavement by suicide."""

from __future__ import annotations

from bot.safety.levels import Category as C
from bot.safety.levels import RiskLevel as L
from bot.safety.rules import Boost, Rule, Scope, TimeClass as T

PAST_LOWERS = {T.PAST: L.CONCERN, T.LONG_AGO: L.CONCERN}
MINOR_CATEGORY = Boost("minor", L.ELEVATED, Scope.MESSAGE, category=C.CHILD_SAFETY)
MINOR_HIGH = Boost("minor", L.HIGH, Scope.MESSAGE, category=C.CHILD_SAFETY, reason="a minor")
PHYSICAL = r"hits|beats|punches|slaps|kicks|chokes|strangles|shoves|throws things at|burns|grabs|bites|pins"
PHYSICAL_PAST = r"hit|beat|punched|slapped|kicked|choked|strangled|shoved|threw things at|burned|grabbed|pinned"
NOT_AWAY = r"(?! away| off| around| out| back| aside| down)"

ABUSE = (
    Rule(
        id="en.abuse.sexual",
        category=C.ABUSE,
        level=L.ELEVATED,
        reason="sexual abuse or assault disclosed",
        patterns=(
            r"(?:i was|im|i am|ive been|i have been|been|being|got|get|getting|i was being) (?:\w+ )?(?:raped|molested|sexually "
            r"(?:abused|assaulted)|groomed|trafficked|sa d|touched inappropriately)",
            r"(?:rapes|raped|molests|molested|touches|touched|fondles|fondled|assaulted|assaults|grooming|grooms) me",
            r"(?:forces|forced|makes|made|pressures|pressured) me (?:to )?(?:have sex|do sexual things|do things|perform|sleep with|"
            r"touch (?:him|her)|watch porn)|forced (?:himself|herself) on me",
            r"(?:comes|came|sneaks) into my (?:room|bed) at night|(?:sexual|child) abuse|(?:sexually|physically and sexually) abused",
            r"(?:rape|sexual assault|molestation)(?: \w+){0,2} (?:happened|trauma|survivor)|(?:was|got) almost raped|almost being raped",
            r"(?:leak|share|post|spread|send) (?:\w+ ){0,2}(?:my )?(?:nudes|pics|pictures|photos) (?:unless|if i dont|if i do not)",
            r"(?:unless|or) i send (?:him |her |them )?(?:more )?(?:nudes|pics)|(?:asked|asking|wants|pressur\w+|making|made|forcing|forced) "
            r"(?:me )?(?:to )?send (?:him |her |them )?(?:nudes|naked|pics of)|sextort\w*",
            r"(?:keeps|is|has been|been|keeps on|started) (?:molesting|raping|touching|sexually abusing) (?:my|her|him|his|a|the) (?:\w+ )?(?:{KIN})",
        ),
        timed=PAST_LOWERS,
        also=(),
        boosts=(MINOR_HIGH,),
        examples=("i was raped at a party", "my stepdad comes into my room at night and touches me"),
    ),
    Rule(
        id="en.abuse.physical",
        category=C.ABUSE,
        level=L.ELEVATED,
        reason="physical or emotional abuse disclosed",
        patterns=(
            r"(?<!it )(?:" + PHYSICAL + r") me" + NOT_AWAY + r"|(?:he|she|they|my (?:\w+ )?(?:{KIN})|her|him) (?:[\w,]+ ){0,4}(?:" + PHYSICAL_PAST + r") me(?! up at)" + NOT_AWAY,
            r"(?:put|puts|laid|lays) (?:his|her|their) hands on me|(?:threatens|threatened) (?:to )?(?:hit|hurt|beat) me",
            r"(?:pushes|pushed|shoves|shoved) me (?:around|down|into|against|to the ground|over)|(?:he|she|they|partner|boyfriend|girlfriend|husband|wife) "
            r"(?:\w+ ){0,5}threatens me",
            r"(?:hit|hitting|beat|hurt|punch|punching) each other",
            r"(?:i was|im|i am|ive been|i have been|been|being|got|get|getting) (?:\w+ )?(?:abused|beaten up|beaten by|choked|strangled|hit by (?:my|him|her))",
            r"(?:abusive|violent) (?:relationship|partner|husband|wife|boyfriend|girlfriend|marriage|home|household|father|mother|"
            r"dad|mom|parents?|ex|stepdad|stepmom|family)",
            r"(?:physically|mentally|emotionally|verbally|psychologically|financially) (?:and \w+ )?abus(?:ive|es|ed|ing)",
            r"(?:he|she|they|hes|shes|who) (?:is|are|has been|was|gets|can be) (?:\w+ )?(?:abusive|violent)",
            r"domestic (?:violence|abuse)|(?:emotional|verbal|physical) abuse|abuses me|abusing me|abuse me",
            r"controls (?:my|all my) (?:money|finances|phone)|(?:violent|angry) outbursts",
        ),
        timed=PAST_LOWERS,
        boosts=(MINOR_CATEGORY, Boost("soon", L.HIGH, reason="happening now")),
        examples=("my husband hits me when hes drunk", "my dad throws things at me"),
    ),
    Rule(
        id="en.abuse.violence_now",
        category=C.ABUSE,
        level=L.HIGH,
        reason="violence happening now",
        patterns=(
            r"(?:hes|he is|shes|she is|theyre|they are|is|are) (?:\w+ )?(?:hitting|beating|punching|kicking|choking|strangling|attacking|"
            r"stabbing|raping|hurting) (?:me|us|my (?:\w+ )?(?:{KIN}))",
            r"(?:trying|tries|try) to (?:break|kick|bust) (?:down |in |into )?(?:the|my|our) (?:door|window|house|room)",
            r"(?:breaking|kicking|banging) (?:down |into |in |on )?(?:the|my|our) (?:door|house|room|window)",
        ),
        negated=None,
        boosts=(
            Boost("soon", L.IMMINENT, Scope.MESSAGE, reason="now"),
            Boost("weapon", L.IMMINENT, Scope.MESSAGE, reason="with a weapon"),
            MINOR_CATEGORY,
        ),
        examples=("hes hitting me right now",),
    ),
    Rule(
        id="en.abuse.threat_to_user",
        category=C.ABUSE,
        level=L.HIGH,
        reason="threatened with death or serious harm",
        patterns=(
            r"(?:threatened|threatens|threatening|said (?:he|she|they)(?:d| would| will| is going to| was going to)|says "
            r"(?:he|she|they)(?:ll| will| is going to)) (?:to )?(?:kill|shoot|stab|strangle) me",
        ),
        negated=None,
        drop_if=("trivial",),
        examples=("he threatened to kill me",),
    ),
)

CHILDREN = (
    Rule(
        id="en.child.at_risk",
        category=C.CHILD_SAFETY,
        level=L.ELEVATED,
        reason="a child may be being abused or neglected",
        patterns=(
            r"(?:kids|children|child|baby|daughter|son|niece|nephew|students?)(?: \w+){0,4} (?:always |often |keep )?(?:have|has|had|with|"
            r"covered in) (?:\w+ )?(?:bruises|marks|burns|injuries)",
            r"(?:hear|heard|hearing) (?:the |them |him |her )?(?:kids|children|child|baby)?(?: \w+){0,3} (?:screaming|crying)",
            r"(?:afraid|scared|worried) (?:\w+ ){0,4}(?:get|gets|getting|be|being|will get) (?:hit|beaten|abused|hurt)",
            r"(?:think|worried|afraid|scared|suspect)(?: that)? (?:\w+ ){0,3}(?:is|are|might be|may be) (?:being )?(?:abused|molested|beaten|neglected)",
            r"(?:chokes|choked|choke|choking|hits|hitting|beats|beating|hurts|hurting|molests|abuses|abusing|touches|drugs|drugging|poisons|"
            r"starves|neglects) (?:a|the|my|his|her|their|our) "
            r"(?:\w+ )?(?:daughter|son|kid|kids|child|children|baby|sister|brother|niece|nephew|stepdaughter|stepson|siblings)",
            r"(?:my )?siblings are (?:being |getting )?(?:treated horribly|abused|hit|beaten)",
            r"(?:{KIN}|stepdad|stepfather|uncle|coach|teacher|neighbou?r|babysitter|boyfriend) (?:\w+ ){0,2}(?:touches|touched|molests|molested|"
            r"rapes|raped|grooms|groomed|sexually abuses|sexually abused) (?:her|him|them)(?! (?:hair|shoulder|arm|back))",
        ),
        boosts=(Boost("weapon", L.HIGH, Scope.MESSAGE, reason="with a weapon"), Boost("minor", L.HIGH, Scope.MESSAGE, reason="a minor")),
        examples=("my neighbours kids always have bruises",),
    ),
)

OTHERS = (
    Rule(
        id="en.others.threat_grave",
        category=C.HARM_TO_OTHERS,
        level=L.HIGH,
        reason="threat of serious violence against a person",
        patterns=(
            r"(?:im|i am|i will|ill|going to|about to|will|i swear ill|i swear i will|want to|plan to|planning to) {ADV}"
            r"(?:shoot|stab|shoot up|bomb|blow up) (?:him|her|them|you|my \w+|everyone|"
            r"the (?:school|class|office)|(?:\w+ )?(?:school|class|office|work|people))",
            r"(?:im|i am|i will|ill|going to|about to|will|i swear ill|i swear i will|want to|plan to|planning to) {ADV}"
            r"make (?:him|her|them) (?:bleed|suffer)",
            r"(?:bring|bringing|take|taking) (?:a |my |the |my \w+s )?(?:gun|knife|weapon|rifle|pistol) to (?:school|class|work|the office|church)",
        ),
        negated=L.NONE,
        examples=("im going to shoot my ex", "im bringing my dads gun to school tomorrow"),
    ),
    Rule(
        id="en.others.threat",
        category=C.HARM_TO_OTHERS,
        level=L.ELEVATED,
        reason="threat or intent to hurt a person",
        patterns=(
            r"(?:im|i am|i will|ill|going to|about to|will|i swear ill|i swear i will|want to|wanna|plan to|planning to) {ADV}"
            r"(?:kill|murder|strangle|hurt|beat up|attack|make (?:him|her|them) pay) (?:him|her|them|you|my (?:\w+ )?(?:{KIN}|boss|teacher)|everyone|"
            r"someone|somebody|people|that (?:guy|girl|man|woman|bitch|bastard))",
            r"(?:theyll|they will|hell|he will|shell|she will|youll|you will) all pay|(?:theyll|they will) (?:all )?pay",
        ),
        negated=L.NONE,
        drop_if=("trivial", "fear_of_harming"),
        boosts=(
            Boost("weapon", L.HIGH, Scope.MESSAGE, reason="with a weapon"),
            Boost("threat_plan", L.HIGH, Scope.MESSAGE, reason="with a plan or time"),
        ),
        examples=("i want to kill him",),
    ),
    Rule(
        id="en.others.ideation",
        category=C.HARM_TO_OTHERS,
        level=L.ELEVATED,
        reason="thoughts or urges of hurting others",
        patterns=(
            r"(?:urges?|thoughts?|fantas\w+|dream\w*|think\w*|desire|tempted|impulses?) (?:about |of |to )?(?:\w+ ){0,2}"
            r"(?:hurt|hurting|harm|harming|kill|killing|stab|stabbing|shoot|shooting|strangle|strangling|attack|attacking|murder|murdering|"
            r"pushing|push) (?:someone|somebody|people|others|them|him|her|my (?:\w+ )?(?:{KIN})|everyone|a (?:person|stranger|child|kid))",
            r"(?:want|wanted) to see (?:them|him|her|people) (?:beg|suffer|bleed|die)",
            r"i (?:\w+ ){0,2}(?:hit|hits|beat|shove|choke|slap|throw things at) (?:her|him|my (?:\w+ )?(?:wife|husband|partner|"
            r"girlfriend|boyfriend|kids?|children|son|daughter|mom|dad))" + NOT_AWAY,
        ),
        boosts=(MINOR_CATEGORY,),
        examples=("i have urges to hurt my baby", "i think about hurting people"),
    ),
    Rule(
        id="en.others.animals",
        category=C.HARM_TO_OTHERS,
        level=L.CONCERN,
        reason="thoughts of hurting animals",
        patterns=(r"(?:hurt|kick|kill|hurting|kicking|killing) (?:my |the |a )?(?:cat|dog|pet|animals?|puppy|kitten)",),
        examples=("tempted to kick my cat",),
    ),
)

THIRD_PARTY = (
    Rule(
        id="en.third.suicide",
        category=C.SUICIDE,
        level=L.ELEVATED,
        reason="someone else may be at risk of suicide or self-harm",
        patterns=(
            r"(?:{SUBJ3}) (?:\w+ ){0,4}(?:wants?|wanted|is going|was going|going|said (?:he|she|they) (?:wants?|wanted|was going|is going|would|will)|"
            r"says (?:he|she|they) (?:wants?|is going|will)|threaten\w*|keeps saying|talks? about|talking about|thinking (?:of|about)|"
            r"tried|tries|attempted|attempts|planning|plans) (?:to )?(?:kill (?:{SELF3})|end (?:his|her|their) (?:own )?life|"
            r"take (?:his|her|their) (?:own )?life|commit suicide|suicide|die|hurt (?:{SELF3})|unalive)",
            r"(?!i |im )(?:{SUBJ3}|\w+) (?:is|are|seems?|was|has been|became|become|becomes|gets|getting|sounds) (?:very |really |so |also )?suicidal",
            r"(?:{SUBJ3}) (?:\w+ ){0,2}(?:cuts|cutting|has been cutting|self harms?|self harming|burns|is burning|hurts|hurting|starving|starves) (?:{SELF3})",
            r"(?:wishes|wished) (?:he|she|they) (?:were|was) dead|(?:his|her|their) (?:recent |first |second )?suicide attempt",
            r"(?:{SUBJ3})(?: \w+){0,6} (?:after|since|following) (?:a|his|her|their) (?:suicide )?attempt",
            r"(?:has|had) (?:also )?been suicidal|(?:is|are) (?:suicidal and )?self harming|(?:{SUBJ3}) (?:\w+ )?overdosed",
            r"voices(?: \w+){0,4} (?:tell|tells|telling) (?:her|him|them) to (?:kill|hurt|cut|harm)",
        ),
        timed=PAST_LOWERS,
        third_party=True,
        drop_if=("fiction", "dead_outcome"),
        boosts=(
            Boost("soon", L.HIGH, reason="timing: now or tonight"),
            Boost("weapon", L.HIGH, Scope.MESSAGE, reason="with means"),
        ),
        examples=("my friend told me shes been cutting herself", "my little brother says he wants to die"),
    ),
    Rule(
        id="en.third.emergency",
        category=C.SUICIDE,
        level=L.IMMINENT,
        reason="someone else's overdose or attempt is happening now",
        patterns=(
            r"(?:{SUBJ3}) (?:\w+ ){0,2}(?:just )?(?:took|swallowed|taken) (?:a whole|all|a bottle|a bunch|a lot|lots|loads|so many|too many|\d{2,})(?: \w+){0,4} (?:{DRUG})",
            r"(?:{SUBJ3}) (?:\w+ ){0,2}(?:just )?(?:took|swallowed) (?:\w+ ){0,3}(?:{DRUG})(?: \w+){0,4} (?:wont wake up|not waking up|unconscious|not responding|not breathing)",
        ),
        negated=None,
        third_party=True,
        drop_if=("fiction", "dead_outcome"),
        examples=("my friend just took a whole bottle of pills",),
    ),
    Rule(
        id="en.third.bereaved",
        category=C.SUICIDE,
        level=L.CONCERN,
        reason="bereaved by suicide",
        patterns=(
            r"(?:lost|losing) (?:my|a|our|his|her) (?:\w+ ){0,2}(?:to|through) suicide",
            r"(?:my|our|his|her) (?:\w+ ){0,3}(?:killed (?:{SELF3})|took (?:his|her|their) (?:own )?life|committed suicide|died by suicide|"
            r"died of suicide|suicided|hanged (?:himself|herself)|shot (?:himself|herself))",
            r"(?:{KIN})s suicide|(?:his|her|my) (?:\w+ )?s suicide",
        ),
        negated=None,
        third_party=True,
        drop_if=("fiction",),
        examples=("my brother died by suicide last year",),
    ),
)

THIRD_PSYCHOSIS = (
    Rule(
        id="en.third.psychosis",
        category=C.PSYCHOSIS,
        level=L.CONCERN,
        reason="someone else has psychotic symptoms",
        patterns=(
            r"(?:{SUBJ3}) (?:\w+ ){0,5}(?:hears? voices|hearing voices|psychotic|having (?:a )?psychosis|schizophreni\w+|paranoid delusions)",
        ),
        third_party=True,
        drop_if=("fiction",),
        boosts=(Boost("off_medication", L.ELEVATED, Scope.MESSAGE, reason="and off their medication"),),
        examples=("my brother has been diagnosed with paranoid schizophrenia",),
    ),
)

PEOPLE: tuple[Rule, ...] = ABUSE + CHILDREN + OTHERS + THIRD_PARTY + THIRD_PSYCHOSIS
