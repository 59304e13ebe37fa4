"""English rules beyond suicide: self-harm, eating disorders, substances, abuse, child
safety, harm to others, psychosis, third parties, bereavement and hopelessness."""

from __future__ import annotations

from bot.safety.levels import Category as C
from bot.safety.levels import RiskLevel as L
from bot.safety.rules import Boost, Context, Rule, Scope, TimeClass as T

PAST_LOWERS = {T.PAST: L.CONCERN, T.LONG_AGO: L.CONCERN}
MINOR_CATEGORY = Boost("minor", L.ELEVATED, Scope.MESSAGE, category=C.CHILD_SAFETY)
BODY = r"arms?|wrists?|legs?|thighs?|skin|stomach|body|face|hips?|chest"

SELF_HARM = (
    Rule(
        id="en.self_harm.act",
        category=C.SELF_HARM,
        level=L.ELEVATED,
        reason="self-harm",
        patterns=(
            r"(?:i|ive|im|been|i have been|i keep|i still|started|start|starting|began|i used to|relapsed(?: and)?|i sometimes) {ADV}"
            r"(?:cut|cutting|burn|burning|burned|burnt|scratch|scratching|scratched|punch|punching|punched|bite|biting|bit|"
            r"carve|carving|carved|hit|hitting) (?:myself(?! off| out| short| loose| free| a break| some slack| up)|my (?:" + BODY + r"))",
            r"(?:i )?self ?harm(?:ed|ing|s)?|self ?injur\w*|(?:my )?(?:sh|cutting|self harm) (?:scars|urges|relapse|habit)",
            r"(?:relapsed|relapse|relapsing) (?:on|with|into) (?:sh|self harm|cutting|self injury)",
            r"(?:cutting|cut) (?:myself )?again|started cutting|been cutting|(?:until|till|til) (?:it|they|i|my \w+) (?:bleeds?|bruises?)",
            r"(?:punch|punching|punched|hit|hitting|bang|banging|banged) (?:walls?|my head|my fists?)(?: \w+){0,4} (?:until|till|so hard)",
            r"(?:hurt|hurting|harm|harming) myself (?:\w+ ){0,3}(?:on purpose|deliberately|intentionally|to (?:feel|cope|punish|forget|calm))",
            r"(?:keep|kept|been|started) (?:hurting|harming) myself",
            r"(?:do|doing|did) (?:stupid|bad) things to myself|(?:it only goes away|only thing that helps) when i hurt myself",
        ),
        timed=PAST_LOWERS,
        drop_if=("accidental_cut",),
        boosts=(MINOR_CATEGORY,),
        examples=("i cut myself when i get overwhelmed", "i relapsed on sh last night", "i scratch my arms until they bleed"),
    ),
    Rule(
        id="en.self_harm.urge",
        category=C.SELF_HARM,
        level=L.ELEVATED,
        reason="urge to self-harm",
        patterns=(
            r"(?:urge|urges|itch|tempted|craving|cravings) (?:to )?(?:cut|self harm|sh|hurt myself|harm myself|burn myself)",
            r"(?:want|wanted|wanting|need|needing) to (?:cut|burn|scratch) (?:myself|my (?:" + BODY + r")|again)",
            r"(?:want|wanna|wanted|need|needing) to (?:self harm|sh|hurt myself|harm myself)",
            r"(?:cut|cutting|self harm|sh|hurt myself)(?: [\w,]+){0,6} (?:want|wanted|need) to (?:do it )?again",
        ),
        negated=L.NONE,
        boosts=(MINOR_CATEGORY,),
        examples=("when im sad i want to cut myself", "i used to cut and i really want to again"),
    ),
    Rule(
        id="en.self_harm.remission",
        category=C.SELF_HARM,
        level=L.CONCERN,
        reason="self-harm in the past (stopped)",
        patterns=(
            r"(?:dont|do not|no longer|stopped|quit) (?:cut|cutting|self harm\w*|harming myself|hurting myself)(?: \w+){0,2}",
            r"(?:\d+|months|years|days|weeks) (?:clean|free) (?:from|of) (?:sh|self harm|cutting)|havent (?:cut|self harmed)",
            r"not self harming anymore",
        ),
        negated=None,
        examples=("i dont cut anymore",),
    ),
    Rule(
        id="en.self_harm.bleeding",
        category=C.SELF_HARM,
        level=L.IMMINENT,
        reason="serious bleeding from self-harm now",
        patterns=(r"(?:cut|cutting|went|gone|sliced|slit)(?: \w+){0,3} too deep",),
        negated=None,
        examples=("i cut too deep",),
    ),
    Rule(
        id="en.self_harm.bleeding_context",
        category=C.SELF_HARM,
        level=L.IMMINENT,
        reason="heavy bleeding, with self-harm or suicide mentioned",
        patterns=(
            r"(?:wont|will not|cant|doesnt|does not) stop bleeding|(?:bleeding|bleed) (?:a lot|heavily|badly|so much|everywhere|out)",
            r"blood everywhere|so much blood|(?:lost|losing) (?:a lot of|so much) blood|bleeding from my (?:wrists?|arms?|neck|throat|legs?)",
            r"cant stop (?:the )?bleeding|cant stop it(?: \.| ,)? (?:the )?blood",
        ),
        negated=None,
        needs=Context.SUICIDAL,
        context_cue="cutting_context",
        examples=(),
    ),
)

EATING = (
    Rule(
        id="en.eating.behaviour",
        category=C.EATING_DISORDER,
        level=L.ELEVATED,
        reason="eating-disorder behaviour (purging, restricting, starving)",
        patterns=(
            r"(?:make|made|making) myself (?:throw up|vomit|puke|sick)|(?:throw|throwing|threw) up (?:after|on purpose|deliberately)",
            r"purg(?:e|ed|es|ing)|binge (?:and|then) purge|b ?p cycle|(?:eat|binge) and purge",
            r"(?:use|using|took|take|abuse|abusing) (?:\w+ ){0,2}laxatives|laxatives (?:after|every|to lose)",
            r"starv\w* myself|(?:havent|have not|not) eaten (?:anything |a thing |properly |since )?(?:in|for) (?:{NUM}) (?:days?|weeks?)",
            r"(?:skipping|skip|skipped) (?:all )?(?:my )?meals (?:to|so)|restrict(?:ing|ed)? (?:to |my |food|calories|again|intake)",
            r"(?:only|barely) eat(?:ing)? (?:\d+|a few hundred) (?:calories|kcal|cals?)|\d{2,4} (?:calories|kcal|cals?) (?:a|per) day",
            r"(?:my )?(?:ed|eating disorder|anorexia|bulimia) (?:voice|thoughts|relapse|is back|is getting worse|brain|behaviou?rs?)",
            r"(?:relaps\w+) (?:into|with|on) (?:my )?(?:ed|anorexia|bulimia|restricting|purging)",
            r"(?:im|i am|been|ive been) (?:\w+ )?(?:anorexic|bulimic)|pro ?ana|pro ?mia|thinspo|meanspo|bonespo",
            r"(?:exercise|work out|working out|run|running|burn) (?:\w+ ){0,3}(?:the )?calories off",
            r"(?:need|have) to be (?:smaller|thinner|skinnier)|(?:fasting|fast) (?:for )?(?:\d+|days|a week) to lose",
            r"(?:i have|i had|im recovering from|diagnosed with|struggle with|struggling with|suffer from|suffering from|battling) "
            r"(?:an? )?(?:eating disorder|anorexia|bulimia|arfid|binge eating disorder)",
        ),
        timed=PAST_LOWERS,
        boosts=(MINOR_CATEGORY,),
        examples=("i make myself throw up after dinner", "im starving myself to lose weight"),
    ),
    Rule(
        id="en.eating.binge",
        category=C.EATING_DISORDER,
        level=L.CONCERN,
        reason="binge eating",
        patterns=(r"binge ?eat\w*|(?:binging|bingeing|binge) (?:on )?(?:food|eating|snacks|junk|sweets)|eating disorder of binging",),
        examples=("i have a problem with binge eating",),
    ),
    Rule(
        id="en.eating.weight_loss",
        category=C.EATING_DISORDER,
        level=L.NONE,
        reason="asks to lose weight while underweight",
        patterns=(
            r"(?:lose|losing|drop|dropping|shed|get rid of|cut|burn) (?:another |more |a few more |some more |even more )?"
            r"(?:\d+ (?:more )?)?(?:weight|pounds|lbs|kg|kgs|kilos|stone|more)",
            r"(?:get|go|going|drop|get down) (?:down )?to (?:\d+) ?(?:kg|kgs|kilos|lbs|pounds)|(?:get|go|going) down to \d+",
            r"(?:give me|need|want) (?:a |an )?(?:diet|meal plan|fasting plan)",
            r"(?:how|ways?|tips) to (?:eat less|stop (?:eating|feeling hungry)|suppress (?:my )?appetite|not feel hungry|lose weight|skip meals)",
            r"(?:fastest|quickest|best) way to (?:lose|drop|shed) (?:\w+ ){0,3}(?:weight|kg|pounds|lbs)",
        ),
        negated=None,
        boosts=(
            Boost("underweight", L.HIGH, Scope.SESSION, reason="while underweight"),
            Boost("ed_context", L.ELEVATED, Scope.SESSION, reason="with an eating disorder mentioned"),
        ),
        examples=("how can i lose another 10 pounds",),
    ),
)

SUBSTANCE = (
    Rule(
        id="en.substance.numbing",
        category=C.SUBSTANCE,
        level=L.ELEVATED,
        reason="uses alcohol or drugs to numb or cope",
        patterns=(
            r"(?:drink|drinking|drank|get(?:ting)? (?:drunk|high|wasted|stoned)|smoke|smoking|smoked|use|using|take|taking|took|"
            r"pop|popping|need|needs|rely on) (?:\w+ ){0,8}(?:to|so (?:that )?i(?: can)?) (?:\w+ ){0,3}(?:numb|forget|cope|escape|not feel|without (?:thinking|feeling)|"
            r"stop feeling|dont have to (?:feel|think)|dont feel|not think|stop thinking|get through|feel (?:better|nothing|normal|okay|ok)|"
            r"function|make it stop|not have to (?:feel|think)|block (?:it|everything) out)",
            r"(?:only|the only) (?:way|thing) (?:i can|that|to) (?:\w+ ){0,5}(?:is|are) (?:getting high|getting drunk|drinking|drugs|weed|alcohol|pills|smoking)",
            r"(?:always )?need (?:alcohol|a drink|drugs|weed|pills|to drink|to get high) to (?:feel|cope|function|sleep|get through)",
            r"drink(?:ing)? myself (?:to sleep|numb|into oblivion)|self ?medicat\w*",
            r"(?:keep|kept|still) (?:drinking|using|smoking)(?: \w+){0,3} even though",
            r"being sober (?:hurts|is too (?:painful|much|hard)|is unbearable|feels unbearable)|(?:cant|cannot) (?:stand|face) being sober",
        ),
        timed=PAST_LOWERS,
        boosts=(MINOR_CATEGORY,),
        examples=("i drink every night just to numb everything", "the only way i can get through the day is getting high"),
    ),
    Rule(
        id="en.substance.addiction",
        category=C.SUBSTANCE,
        level=L.CONCERN,
        reason="substance addiction",
        patterns=(
            r"(?:im|i am|been|getting) addicted to (?:alcohol|drugs|weed|pills|heroin|meth|coke|cocaine|opioids|painkillers|xanax|benzos)",
            r"(?:im|i am) (?:an )?(?:alcoholic|addict)|my (?:addiction|drinking problem|drug problem)",
        ),
        timed=PAST_LOWERS,
        examples=("im addicted to alcohol",),
    ),
)

PSYCHOSIS = (
    Rule(
        id="en.psychosis.command",
        category=C.PSYCHOSIS,
        level=L.HIGH,
        reason="command hallucinations to harm",
        patterns=(
            r"(?:voices?|someone in my head|something in my head|god|the devil|demons?)(?: \w+){0,3} (?:tell|tells|telling|told|"
            r"order|orders|ordering|ordered|command\w*|want|wants|say|says|saying|said|urge|urging|make|makes|keep telling) "
            r"(?:me )?(?:to |that i should |i should |i have to |i must |i need to |i got to )(?:\w+ ){0,2}(?:kill|hurt|harm|cut|die|"
            r"jump|end|stab|attack|burn|do bad things|shoot|drown|starve|punish)",
        ),
        negated=None,
        boosts=(
            Boost("self_object", L.HIGH, category=C.SELF_HARM),
            Boost("other_object", L.HIGH, category=C.HARM_TO_OTHERS),
        ),
        examples=("the voices are telling me to hurt myself", "a voice keeps ordering me to hurt my mother"),
    ),
    Rule(
        id="en.psychosis.symptoms",
        category=C.PSYCHOSIS,
        level=L.ELEVATED,
        reason="hears voices or describes paranoid or psychotic experiences",
        patterns=(
            r"(?:hear|hearing|heard|have|having) (?:\w+ ){0,2}(?:voices|whispers)|voices in my head|(?:make|get) the voices (?:stop|go away)",
            r"(?:voices|whispers) (?:telling|saying|talking)(?: to| about)? me",
            r"(?:see|seeing|saw) (?:things|people|shadows) (?:that )?(?:\w+ ){0,3}(?:arent there|are not there|others cant|nobody else)",
            r"(?:im|i am) being (?:watched|followed|tracked|monitored|poisoned)|(?:feel|feeling|get the feeling) (?:like |that )?(?:im|i am) being watched",
            r"(?:they|people|someone|the government|the neighbou?rs|the cia|the fbi)(?: \w+){0,2} (?:are|is|keep) (?:watching|following|"
            r"tracking|monitoring|poisoning|spying on|reading) (?:me|my (?:mind|thoughts))",
            r"(?:put|implanted|installed|planted) (?:a |\w+ )?(?:chip|device|camera|tracker|thoughts?) in (?:my|me)",
            r"(?:read|reading|reads|listening to|controlling|stealing|inserting|broadcasting|hearing) my (?:mind|thoughts)|hidden cameras?",
        ),
        timed=PAST_LOWERS,
        examples=("i hear voices at night", "the neighbours put a chip in my head"),
    ),
)

HOPELESS = (
    Rule(
        id="en.risk_factor.hopeless",
        category=C.SUICIDE,
        level=L.CONCERN,
        reason="hopelessness, entrapment or feeling a burden",
        patterns=(
            r"(?:im|i am|i feel|feeling|feel|felt|i was|so|completely|totally|utterly|just) (?:so |completely |totally |utterly )?hopeless|hopelessness",
            r"no hope|losing hope|lost (?:all )?hope|lose hope|given up (?:on (?:life|everything|myself))|giving up on (?:life|everything)",
            r"(?:ive|i have|i) given up on everything|give up on (?:life|everything)",
            r"nothing (?:is |will )?(?:ever )?(?:going to |gonna |will )?(?:get|gets|change|changes|be) (?:better|different)|nothing will ever change|never (?:going to|gonna) get better",
            r"(?:its|it is|things are|things) never going to (?:get better|change)",
            r"(?:im|i am|i feel like|feel like) (?:such |just )?a (?:burden|waste of space|waste of (?:time|resources|oxygen))",
            r"(?:burden|burdening) (?:to|on|for) (?:everyone|my family|others|people|my \w+)",
            r"(?:feel|feeling|im|i am) (?:so |completely |literally )?(?:\w+ and )?trapped|no way out|(?:cant|cannot) see a way out",
            r"(?:my life|things|it) (?:will|is going to) never (?:change|get better)|never change for the better",
            r"(?:cant|can not|cannot) (?:take|handle|do) (?:it|this) (?:anymore|any more|much longer)|(?:cant|cannot) go on(?: like this)?",
            r"(?:whats|what is) the point(?: of (?:anything|it all|trying|going on))?|nothing matters(?: anymore)?",
            r"(?:everything|life|it all|it) (?:feels|is|seems) (?:so |completely |totally )?pointless|cant see (?:it|things|anything) (?:ever )?(?:changing|getting better)",
            r"(?:end|at the end) of my rope|(?:im|i am) (?:so )?done with everything",
            r"(?:i|me) (?:shouldnt|should not) (?:be here|exist)|dont (?:deserve|belong) (?:to )?(?:live|be alive|be here|in this world)",
            r"(?:im|i am|feel|feeling) (?:so |completely )?worthless|(?:think|thinking|thought) (?:\w+ ){0,2}about death",
            r"(?:i )?(?:just )?want (?:it|this|everything|the pain) (?:all )?to (?:end|stop|be over)",
            r"why (?:does god|do i have to|must i) (?:\w+ ){0,3}(?:continue to )?(?:exist|live|keep living)",
        ),
        examples=("i feel completely hopeless", "im such a burden on my family", "i feel trapped and theres no way out"),
    ),
)

OTHER_LOCAL: tuple[Rule, ...] = SELF_HARM + EATING + SUBSTANCE + PSYCHOSIS + HOPELESS
