"""English: slang, macros and cues. The rules are in `en_rules`."""

from __future__ import annotations

from bot.safety.lexicon.en_other import OTHER_LOCAL
from bot.safety.lexicon.en_people import PEOPLE
from bot.safety.lexicon.en_suicide import SUICIDE_RULES
from bot.safety.rules import Lexicon

MARKERS = frozenset(
    "the and i im ive to my is it you of a in that this me want dont have be was just so but "
    "what with for not feel like can cant anymore know about think really".split()
)

# Algospeak, chat abbreviations and frequent misspellings, token by token.
SLANG: dict[str, str] = {
    "wanna": "want to",
    "wana": "want to",
    "gonna": "going to",
    "gunna": "going to",
    "gotta": "got to",
    "tryna": "trying to",
    "finna": "going to",
    "kms": "kill myself",
    "kys": "kill yourself",
    "kmsl": "kill myself",
    "sewerslide": "suicide",
    "sewerslided": "suicided",
    "suicde": "suicide",
    "sucide": "suicide",
    "suiside": "suicide",
    "suicid": "suicide",
    "suacide": "suicide",
    "sucicide": "suicide",
    "suicie": "suicide",
    "suiced": "suicide",
    "sucidal": "suicidal",
    "suicidle": "suicidal",
    "suisidal": "suicidal",
    "suicial": "suicidal",
    "sucidial": "suicidal",
    "kermit": "commit",
    "commiting": "committing",
    "comit": "commit",
    "commited": "committed",
    "comitted": "committed",
    "myslef": "myself",
    "mysefl": "myself",
    "myslf": "myself",
    "mself": "myself",
    "mysef": "myself",
    "myselfe": "myself",
    "meself": "myself",
    "kil": "kill",
    "killl": "kill",
    "kiling": "killing",
    "pils": "pills",
    "pilss": "pills",
    "jus": "just",
    "al": "all",
    "ded": "dead",
    "rn": "right now",
    "atm": "right now",
    "tn": "tonight",
    "tonite": "tonight",
    "2nite": "tonight",
    "2night": "tonight",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "2moro": "tomorrow",
    "2morrow": "tomorrow",
    "b4": "before",
    "idk": "i dont know",
    "idc": "i dont care",
    "idgaf": "i dont care",
    "u": "you",
    "ur": "your",
    "r": "are",
    "cuz": "because",
    "coz": "because",
    "bc": "because",
    "tho": "though",
    "pls": "please",
    "plz": "please",
    "rly": "really",
    "srsly": "seriously",
    "prolly": "probably",
    "lemme": "let me",
    "ppl": "people",
    "selfharm": "self harm",
    "selfharming": "self harming",
    "selfharmed": "self harmed",
    "unalived": "killed",
    "yeeting": "throwing",
    "bday": "birthday",
}

MACROS: dict[str, str] = {
    "ADV": (
        r"(?:(?:really|just|honestly|seriously|literally|actually|kinda|kind of|sort of|sometimes|often|always|still|so|"
        r"very|truly|genuinely|fucking|fuckin|fkn|even|also|already|finally|probably|definitely|totally|lowkey|low key|"
        r"secretly|almost|pretty much|deeply|constantly|occasionally|again|now|all|legit|desperately|badly|gladly|"
        r"going to|go|get to) )*"
    ),
    "ACT": (
        r"kill myself|end (?:my (?:own )?life|it all|my suffering|everything|myself|things|my existence)|"
        r"take my (?:own )?life|commit suicide|die by suicide|unalive(?: myself)?|off myself|hang myself|shoot myself|"
        r"knife myself|stab myself|overdose|od|slit my (?:wrists?|throat)|cut my (?:wrists?|throat)|"
        r"jump (?:off|from|in front of) (?:a|the|my|this|that)(?: \w+){1,3}|throw myself (?:off|under|in front of)(?: \w+){1,3}|"
        r"drown myself|yeet myself(?: off)?|delete myself|ctb|catch the bus|go to sleep and (?:never|not) wake up|"
        r"sleep and never wake up|poison myself|gas myself"
    ),
    "ACTING": (
        r"killing myself|ending (?:my (?:own )?life|it all|everything|things|myself|my existence)|taking my (?:own )?life|"
        r"committing suicide|unaliving(?: myself)?|offing myself|hanging myself|shooting myself|overdosing|"
        r"slitting my (?:wrists?|throat)|cutting my (?:wrists?|throat)|jumping (?:off|from|in front of)(?: \w+){1,4}|"
        r"drowning myself|throwing myself (?:off|under|in front of)(?: \w+){1,3}|suicide|dying by suicide|"
        r"poisoning myself|ctb"
    ),
    "INTENT": (
        r"want|wants|wanted|need|needs|going|have|got|plan|plans|planning|planned|decided|deciding|ready|about to|trying|"
        r"try|intend|intending|will|ill|would|id|should|shall|might|may|must|urge|urges|prepared|preparing|choose|"
        r"chose|gonna|wanting"
    ),
    "SUBJ3": (
        r"he|she|they|hes|shes|theyre|he is|she is|they are|who|whos|who has|my (?:\w+ )?(?:mom|mum|mother|dad|father|"
        r"brother|sister|son|daughter|kid|child|friend|bff|bestie|boyfriend|girlfriend|bf|gf|partner|husband|wife|"
        r"fiance|fiancee|cousin|uncle|aunt|niece|nephew|roommate|classmate|coworker|colleague|student|stepson|"
        r"stepdaughter|sibling|grandma|grandpa|teen|teenager|ex)|(?:a )?friend(?: of mine)?"
    ),
    "SELF3": r"himself|herself|themselves|themself",
    "KIN": (
        r"mom|mum|mother|dad|father|parents?|brother|sister|son|daughter|kids?|child|children|baby|friend|bff|"
        r"boyfriend|girlfriend|partner|husband|wife|fiance|fiancee|cousin|uncle|aunt|grandma|grandpa|grandmother|"
        r"grandfather|niece|nephew|roommate|classmate|coworker|colleague|neighbou?r|stepdad|stepmom|stepfather|"
        r"stepmother|stepson|stepdaughter|relative|family member|loved one|sibling|ex"
    ),
    "DRUG": (
        r"pills|tablets|meds|medications?|medicine|capsules|tylenol|paracetamol|acetaminophen|advil|ibuprofen|aspirin|"
        r"xanax|ativan|valium|benzos|sleeping pills|antidepressants|painkillers|insulin|opioids|oxy|oxycodone|"
        r"codeine|sertraline|prozac|lithium|seroquel"
    ),
    "MEANS": (
        r"{DRUG}|rope|ropes|noose|belt|cord|gun|guns|pistol|rifle|firearm|bullets?|knife|knives|blade|blades|razor|"
        r"razors|poison|helium|bleach|charcoal"
    ),
    "NUM": (
        r"\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a few|a couple(?: of)?|few|"
        r"couple of|several|some"
    ),
}

CUES: dict[str, str] = {
    "negation": (
        r"not|never|no|dont|do not|doesnt|does not|didnt|did not|wont|will not|wouldnt|would not|cant|cannot|"
        r"can not|couldnt|isnt|arent|wasnt|werent|havent|hasnt|hadnt|shouldnt|nor|neither|without|no longer|aint"
    ),
    "pseudo_negation": (
        r"not only|not just|no matter|(?:cant|cannot|can not|couldnt|dont|cant even) (?:stop|help)|"
        r"(?:dont|do not|didnt) (?:even )?know|not sure|no idea|not going to lie|ngl|cant wait|"
        r"never been (?:so|this|more)|no one|nobody|doesnt matter|not a day goes by|never stop|dont think i can"
    ),
    "clause_break": (
        r"but|though|tho|although|however|yet|except|and|because|cause|since|so|when|while|if|or|then|until|unless"
    ),
    "retraction": (
        r"jk|just kidding|just joking|only joking|(?:i was|im|was) (?:just )?(?:joking|kidding)|(?:was|its|it was) a joke|"
        r"forget it|forget (?:i said|what i said|about it)|never ?mind|nvm|ignore (?:that|me|what i said)|"
        r"(?:i )?didnt mean (?:it|that)|im (?:fine|okay|ok|good) now|(?:just|was just) being dramatic|"
        r"(?:not|wasnt) serious|dont worry about (?:it|me)"
    ),
    "hyperbole": (
        r"game|gaming|level|boss|raid|minecraft|fortnite|roblox|valorant|league|respawn|npc|cringe|cringy|"
        r"embarrass\w*|awkward|so funny|hilarious|this song|that song|this movie|that movie|this show|that video|tripped|"
        r"fell over|in front of everyone|"
        r"this video|meme|memes"
    ),
    "fiction": (
        r"movie|movies|film|show|series|episode|season|book|novel|story|stories|character|characters|chapter|"
        r"fiction|song|lyrics|poem|hamlet|anime|manga|news|article|headline|reported|report|documentary|essay|"
        r"paper|research|study|studies|statistics|rates?|class|assignment|lecture|celebrity|actor|actress|singer|"
        r"podcast|game|play"
    ),
    "relation": r"my (?:\w+ )?(?:{KIN})s?|(?:a |my )?(?:close )?friend(?: of mine)?",
    "third_subject": r"(?:my|his|her|their|our) (?:\w+ )?(?:{KIN})s?|he|she|they|hes|shes|his|her",
    "weapon": r"gun|guns|pistol|rifle|shotgun|firearm|knife|knives|blade|machete|axe|bomb|explosives?|ammo|bullets?|loaded",
    "threat_plan": (
        r"know where (?:he|she|they) (?:lives?|live|works?|sleeps?)|tonight|tomorrow|when (?:he|she|they) gets? home|"
        r"after school|planned|plan|i swear|for real|not joking|im serious|make (?:him|her|them) pay|locked and loaded"
    ),
    "trivial": (
        r"ate|eats|eat my|eating my|spoil\w*|late|forgets?|forgot|took my|steal\w* my|lol|lmao|haha|hahaha|jk|"
        r"hilarious|annoying|leftovers|fries|cake|pizza|snacks|charger|borrow\w*|finds? out|sees? my|grades|"
        r"if (?:he|she|they) (?:does|says) that again|bday|birthday|party"
    ),
    "minor": (
        r"(?:im|i am) (?:1[0-7]|[5-9])(?: years old| yo| y o)?|(?:1[0-7]|[5-9]) ?(?:years old|yo|y o|year old)|"
        r"(?:my|our|a|his|her) (?:\w+ )?(?:son|daughter|kid|kids|child|children|baby|toddler|little (?:brother|sister|cousin)|"
        r"niece|nephew|stepson|stepdaughter|grandson|granddaughter|students?)|(?:in|at) (?:middle|high|elementary|primary|"
        r"secondary) school|(?:im|i am) (?:a|only a|just a) (?:kid|child|minor|teen|teenager)|underage|minor|"
        r"(?:1[0-7]|[5-9])yo"
    ),
    "underweight": (
        r"underweight|bmi (?:of |is |at |around |about )?(?:1[0-7]|[5-9])(?:[.,]\d)?|"
        r"(?:weigh|weighing|at|only|am|im|and|only weigh) (?:only )?(?:[2-4]\d)(?:[.,]\d)? ?(?:kg|kgs|kilos)|"
        r"(?:[2-4]\d)(?:[.,]\d)?(?:kg|kgs)|(?:weigh|weighing|at|am|im|and|only) (?:only )?(?:[5-9]\d) ?(?:lbs|lb|pounds)|"
        r"skin and bones|(?:already|so|too|very|dangerously) (?:thin|skinny)|ribs (?:show|showing|stick out)|"
        r"(?:down to|reach|get to|goal (?:weight )?(?:of|is)?) (?:[2-4]\d) ?(?:kg|kgs|kilos)|"
        r"(?:down to|reach|get to|goal (?:weight )?(?:of|is)?) (?:[5-8]\d) ?(?:lbs|pounds)"
    ),
    "ed_context": (
        r"\bed\b|eating disorder|anorexi\w*|bulimi\w*|purg\w*|restrict\w*|pro ana|thinspo|binge|starv\w* myself|"
        r"calories a day|fasting"
    ),
    "soon": (
        r"tonight|right now|now|today|this (?:evening|afternoon|morning|weekend)|tomorrow|in (?:a few|an|one|two) "
        r"(?:hours?|minutes?)|soon|this week|on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    ),
    "decided": (
        r"made up my mind|my mind is made up|ive decided|i have decided|decision is made|ready to go|no other way|"
        r"(?:really |truly )?mean it(?: this time)?|not joking|im serious|for real this time"
    ),
    "accidental": r"accident\w*|by mistake|mistakenly|forgot|double dose|twice by|too soon|extra dose",
    "accidental_cut": r"cooking|chopping|shaving|kitchen|by accident|accidentally|paper cut|gardening|oven|stove|iron|pan",
    "benign_absence": (
        r"work|trip|vacation|holiday|travel\w*|busy|visiting|offline|internet|wifi|out of town|camping|flight|"
        r"moving|hospital appointment|exam|school|class|shift"
    ),
    "see_you": (
        r"see you|see ya|talk (?:to you )?(?:later|tomorrow|soon)|for now|next time|later|in a bit|gtg|got to go|"
        r"have to go|brb|goodnight|good night|night night|tomorrow|thanks for (?:the|your) (?:help|chat|advice)"
    ),
    "despair": (
        r"jump|jumping|let go|fall|goodbye|bye|end it|im done|i am done|its over|cant do this|cant go on|cant take it|cant anymore|"
        r"cant keep going|waiting for the (?:\w+ )?(?:train|express)|"
        r"no way out|done with (?:life|everything)|kill myself|die"
    ),
    "violence_target": r"me|us|my (?:\w+ )?(?:{KIN})",
    "cutting_context": r"cut|cutting|cuts|wrists?|razor|blade|knife|self harm|sh|arms?|thighs?|too deep",
    "treated": (
        r"(?:out of|left|discharged from|released from|got out of|back from|home from|came home from) "
        r"(?:the )?(?:hospital|er|icu|psych ward|ward|psych unit)|discharged"
    ),
    "self_object": r"myself|me to die|my (?:wrists?|arms?|body|life)",
    "other_object": r"him|her|them|people|someone|somebody|everyone|my (?:\w+ )?(?:{KIN})|neighbou?r|others",
    "fear_of_harming": r"afraid|scared|worried|fear|terrified|dont want to|hope i dont|careful not to|might accidentally",
    "off_medication": (
        r"(?:not|stopped|refuses to|refused to|wont|quit)(?: been)? tak(?:e|ing) (?:his|her|their) (?:medication|meds|medicine)|"
        r"off (?:his|her|their) (?:medication|meds)|(?:using|on) (?:meth|methamphetamine|drugs|crack)"
    ),
    "preparation_sign": (
        r"(?:giving|gave|give|given|rehoming|rehomed) (?:away )?(?:my|all my) (?:\w+ )?(?:dog|cat|pets?|things|stuff|belongings|"
        r"possessions)(?: \w+){0,4} (?:and|,) (?:\w+ ){0,4}(?:letters?|notes?)|(?:letters?|notes?) (?:\w+ ){0,6}(?:and|,) (?:\w+ ){0,3}"
        r"(?:giving|gave|give|rehoming) (?:away )?my"
    ),
    "benign_view": r"sunset|sunrise|view|photo|photos|picture|picnic|hike|hiking|selfie|lunch|fishing|stars|drone",
    "first_person": r"i|im|ive|id|ill|me|my|mine|myself",
    "generic_audience": (
        r"if you|when you|anyone who|people who|someone who|many people|those who|for people|a person who|"
        r"the person who|it is common|is common|is commonly|commonly|often"
    ),
    "dead_outcome": r"died|found dead|passed away|funeral|(?:is|was) dead now",
    "time_now": (
        r"right now|now|as we speak|tonight|just|just now|(?:{NUM}|\d+) (?:minutes?|mins?|hours?|hrs?) ago|an hour ago|"
        r"half an hour ago|last night|this morning|this evening|this afternoon|earlier today|today|yesterday"
    ),
    "time_recent": (
        r"(?:last|this past|past) (?:week|month|weekend|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
        r"spring|summer|fall|autumn|winter)|(?:{NUM}) (?:days?|weeks?|months?) ago|recently|lately|"
        r"this (?:week|month|year)|earlier this (?:week|month|year)|in (?:january|february|march|april|may|june|july|"
        r"august|september|october|november|december)|a year ago|last year|not long ago|the other day|"
        r"over the weekend|a (?:week|month|couple of weeks|few weeks|few months) back|in the last (?:few )?(?:weeks|months)"
    ),
    "time_past": (
        r"before|in the past|once|used to|previously|at one point|history of|back then|twice|several times|"
        r"multiple times|a few times|many times|survivor|past relationship|previous relationship|at some point|"
        r"in my past|my past"
    ),
    "time_long_ago": (
        r"(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|a few|"
        r"a couple(?: of)?|few|couple of|several|many|some|[2-9]|[1-9]\d) years? ago|years ago|decades? ago|"
        r"a decade ago|long ago|a long time ago|ages ago|as a (?:kid|child|teen|teenager|little (?:boy|girl)|youngster|minor)|"
        r"when i was (?:a )?(?:\d+|little|young|younger|small|kid|child|teen|teenager|in (?:high|middle|elementary) "
        r"school|in college|at school|growing up)|in (?:high|middle|elementary|primary) school|in college|at uni|"
        r"in my (?:teens|twenties|20s|teenage years|childhood|youth|early (?:teens|twenties|20s))|childhood|growing up|"
        r"back in (?:\d{4}|the day|high school|school|college)|in (?:19\d\d|200\d|201\d)|as children|since childhood"
    ),
}

LEXICON = Lexicon(language="en", markers=MARKERS, slang=SLANG, macros=MACROS, cues=CUES, rules=SUICIDE_RULES + OTHER_LOCAL + PEOPLE)
