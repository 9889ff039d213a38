"""Recognising English, and undoing the letter ciphers (ROT13, Atbash) that hide it.

A cipher decoding is only worth judging when it turns text that does not read as English into
text that does, so ``english_score`` needs a wordlist: the few thousand most common English
words below (plus the vocabulary of the harms tunegate looks for), matched with simple suffix
stripping (-s, -ed, -ing, -ly, -er, ...) so inflected forms need not be listed.
"""

from __future__ import annotations

import functools
import re
import string

_WORDLIST = """
a abduct ability able about above absence absolutely abuse academic accept access accessory accident accompany
accomplish according account accurate accuse achieve acid acknowledge acquire across act action active
activity actor actual adapt add addict addiction addition additional address adjust administration admire
admit adopt adult advance advantage adventure advertising advice advise affair affect afford afraid after
afternoon afterwards again against age agency agent aggressive ago agree ahead aid aim ain air aircraft
airline airport alcohol algorithm alive all alliance allow ally almost alone along already alright also alter
alternative although always am amazing amendment ammonium ammunition among amongst amount an analyse analysis
analyst analyze anatomy ancient and anger angle angry animal anniversary annotate announce annual another
answer anthrax antibiotic anxiety any anybody anymore anyone anything anyway anywhere apart api app apparent
appeal appear appearance apple appliance application appoint appreciate approach appropriate approve
approximately april aquarium architect archive are area aren arguably argue argument arise arithmetic arm army
around arrange array arrest arrival arrive arrow arson art article artist as aside ask asleep aspect
assassinate assassination assault assess asset assign assist assistant assume assumption assure astronomy at
ate athlete atmosphere atom attach attack attempt attend attention attitude attorney attract attractive
audience audio audit august authentication author authority automatic available avenue average avoid award
aware away awesome awful baby back backend backup bacteria bad bag bake balance ball band bandwidth bank bar
barely barrel base basic basically basis basket bath bathroom battery battle be beach bean bear beat beautiful
beauty because become bed bedroom been before beg began begin begun behave behavior behind belief believe bell
belong below belt bench bend beneath benefit beside best bet between beyond bicycle big bike bill billion
binary bind biological biology bird birth birthday bit bitcoin bite black blackmail blade blame blanket bleach
blind block blockchain blog blood blow blue board boat body bomb bone bonus book boot border born borrow boss
both bottle bottom bought boundary bowl box boy boyfriend brain brand brave bread break breakfast breast
breath breathe brick bridge brief bright brilliant bring broad broke broken brother brought brown browser
brunch brush budget bug build built bullet bully bunch burden burglary burn bury bus business busy but button
buy by bye bypass cabin cabinet cable cache cafe cake calculate calendar call calm calorie came camera camp
campaign campus can canal cancel cancer candidate candle candy cannot cap capability capable capacity capital
captain capture car carbohydrate carbon card care careful carpet carry cartoon case cash cast cat catch
category caught cause ceiling celebrate celebration cell cellar censor censorship center central century
certain chain chair chairman challenge champion chance change channel chapter character characteristic charge
charity chart chase cheap cheat check cheek cheese chef chemical chemist chemistry chest chicken chief child
childhood children chin chip chloride chocolate choice choose chose chosen church cigarette circle circuit
circumstance cite citizen city civil civilian claim class clean clear clerk click client climate climb clinic
clock close closet cloth cloud club clue coach coal coast coat cocaine code coffee cognitive coin cold
collapse collar colleague collect collection collective college color column combination combine come comedy
comfort comfortable command comment commercial commission commit committee common communicate communication
community company compare comparison compete competition competitive compile complain complaint complete
complex compliance complicated comply component compose compute concentrate concept concern conclude
conclusion concrete condition conduct conference confidence confident configuration configure confirm conflict
confront confusion congress connect connection conscious consensus consequence conservative consider
considerable consideration consist consistent console constant construct construction consult consumer contact
contain contemporary content contest context continue contract contrast contribute contribution control
controversial conversation convert convince cook cookie cool cooperation cop cope copy core corn corporate
corporation correct cost cottage cotton couch could couldn council count counterfeit country county couple
courage course court cousin cover cpu crack craft crash crazy cream create creative creature credential credit
crew crib crime criminal crisis criteria critic critical criticism criticize crop cross crowd crucial cry
crypto cryptocurrency cultural culture cup cupboard cure curious currency current curtain custom cut cvv
cyanide cyber cycle dad damage damn dance danger dangerous dark darknet dashboard data database dataset
daughter day dead deal dear death debate debit debt debug decade december decide decimal decision decline
decode decrease decrypt deep default defeat defend defense deficit define definitely definition degree delay
deliver delivery demand democratic demonstrate deny department depend dependent deploy depression depth derive
describe desert deserve design desire desk desperate despite dessert destroy destruction detail detect
detection detective determine detonate detonator develop device devote diagram dialogue dictionary did didn
die diet differ difference different difficult digital dimension dinner direct direction director dirt dirty
disability disable disagree disappear disaster discipline discover discrimination discuss discussion disease
dish dismiss disorder display distance distinct distinguish distribute distribution district diverse diversity
divide division divorce do doctor document doesn dog domain domestic dominant dominate don done door dosage
dose double doubt down download downtown dozen draft drag drama dramatic draw drawn dream dress drew drink
drive driven drone drop drove drug dry dude due during dust duty each eager ear earn earnings earth ease east
eastern easy eat eaten economic economy ecosystem edge educate education educational effect effective
efficiency efficient effort egg eight eighteen eighth eighty either elbow elderly elect election electric
electricity electronic element elementary elevator eleven eliminate elite else elsewhere email embrace emerge
emergency emission emotion emotional emphasis emphasize employ employee empty enable encode encounter
encourage encrypt encryption end enemy energy engage engine english enhance enjoy enormous enough ensure enter
entertainment enthusiasm entire entrance entry envelope environment environmental episode equal equation
equipment era error escape especially essay essential establish estate estimate etc ethical ethics ethnic
evaluate evaluation even event eventually ever every everybody everyone everything everywhere evidence evil
evolution evolve exact exam examination examine example exceed excel excellent except exception exchange
exciting executive exercise exhibit exist existence expand expansion expect expectation expense expensive
experience experiment expert explain explanation explode exploit explore explosion explosive exponent export
expose exposure express expression extend extension extensive extent external extort extortion extra
extraordinary extreme extremist eye eyebrow fabric face facility fact factor factorial fade fail failure fair
faith fake fall fallen false familiar family famous fan fantasy far farm fashion fast fat fate father fault
favor favorite fear feature february federal fee feedback feel feet fell felt female fence fertilizer festival
few fiction field fifteen fifth fifty fight figure file fill film filter final finance financial find fine
finger finish fire firearm firewall firm first fish fit five fix flag flame flat flavor flee flesh flew flight
float flood floor flow flown fluid fly focus fold folk follow font food fool foot football for force foreign
forever forge forgery forget forgot forgotten fork form formal format formation formula fortune forty forward
fought found foundation four fourteen fourth fraction frame framework frankly fraud free freedom freezer
frequency frequent fresh friday fridge friend from front frontend fruit frustration fuel full fully fun
function fund fundamental funeral funny furniture furthermore fuse future gadget gain gallery gallon gambling
game gang gap garage garden garlic gas gasoline gate gather gave gaze gear gender gene general generate
generation genetic gentle gently geometry gesture get ghost giant gift girl girlfriend give given glad glass
global glove go goal god gold golden golf gone gonna good got gotten government gpu grab grade gradually
graduate grain grammar grand grandfather grandma grandmother grandpa grant graph grass grave gray great green
grenade grew grocery ground group grow grown growth guarantee guard guess guest guidance guide guideline
guilty gun gunpowder guy habit hack had hadn hair half hallway hammer hand handful handle hang happen happy
harass hard hardware harm harmful harmless has hash hasn hat hate have haven he head headline heal health
healthy hear heard heart heat heaven heavy height held hell hello helmet help helpful her here hero heroin
herself hey hi hid hidden hide high highlight highway hijack hill him himself hint hire historic historical
history hit hmm hobby hold holiday holy home honest honey honor hope hopefully horizon horror horse hospital
host hostage hot hotel hour house household how however html http huge huh human humor hundred hundredth hung
hungry hunt hurt husband i ice icon idea ideal identify identity if ignite ignition ignore ill illegal
illustrate image imagine immediate immigrant impact important impose impossible impress impression impressive
improve in incident include income incorporate increase incredible indeed independence independent index
indicate indication individual industrial industry infection inflation influence inform information ingredient
initial initiative inject injection injury innocent innovation input inquiry insect inside insight insist
inspire install instance instead institution instruction instructor instrument insurance integer intellectual
intelligence intend intense intention interaction interest interface internal international internet interpret
intervention interview into inventory invest investigate investigation investor invite invoice involve iron is
island isn isolate issue it item itself jacket jail jailbreak january javascript jeans job join joint joke
journal journalist journey joy json judge judgment juice july jump june junior jury just justice justify keep
kept kernel kettle key keyboard keyword kick kid kidnap kill kilogram kilometer kind kinda king kiss kitchen
knee knew knife knock know knowledge known lab label labor lack ladder lady laid lake lamp land landscape lane
language laptop large laser last late latter laugh launch launder law lawn lawsuit lawyer lay layout lead
leadership leaf league lean learn least leave lecture led left leg legacy legal legislation legitimate lemon
lemonade lent less lesson let lethal lettuce level liberal liberty library license lid lie life lift light
like limit line link linux lip lipstick liquid list listen literally literature little live loan lobby local
locate location lock logic login lonely long look loop loose lord lose loss lost lot love low loyal loyalty
luck lucky luggage lunch lung machine macro mad made magazine mail main maintain major majority make mall
malware man manage manufacturer many map march margin marijuana mark market marriage marry mask mass massive
master match mate material math matrix matter mattress maximum may maybe me meal mean meant meanwhile measure
meat mechanism media medical medication medicine medium meet member membership memory men mental mention menu
mere mess message met metal meth methamphetamine method metric mice microsoft microwave middle might mild
military milk million mind mine minister minor minority minute miracle mirror miss mission mistake mix mixture
mobile mode model modem moderate modern modest module molotov mom moment monday money monitor month mood moon
moral more moreover morning mortgage most mother motion motivation motor mount mountain mouse mouth move movie
mr ms much mug murder muscle museum music musical musician must mustn mutual my myself mystery myth nail naked
name napkin narcotic narrative narrow nasty nation national native natural nature navy near nearby neat
necessary neck necklace need needn negative negotiate negotiation neighbor neighborhood neither nerve nervous
net network neural neutral never nevertheless new newspaper next nice night nineteen ninety ninth nitrate no
nobody nod node noise none nonetheless noodle nope nor normal north nose not note notebook nothing notice
notification notion novel november now nowadays nowhere nuclear null number nurse nut nutrient nutrition
obedient obey object objective obligation observation observe obstacle obtain obvious occasion occasionally
occur ocean october odd of off offense offensive office official often oh oil ok okay old on once one ongoing
onion online onto oops open operate operation operator opinion opioid opponent opportunity oppose opposite
option or orange order ordinary organic organization organize origin original other otherwise ought our
ourselves out outcome output outside oven over overall overcome overdose override owe own ownership oxygen
pace pack package page paid pain paint pair pajamas pale palm pan pancake panel pants paper paragraph
parameter parcel parent parking parse part participant participate particular partner party pass passage
passenger passion passport password past pasta patience patient pattern pause pay payload peace peak peer
penalty pencil people pepper per percent percentage perception perfect perform performance perhaps period
permanent permission permit person persona personal personality perspective persuade phase phenomenon
philosophy phishing phone photo photograph phrase physical physician physics piano pick picture piece pile
pill pillow pilot pin pink pipe pistol pitch pixel pizza place plan planet plant plastic plate platform play
playlist pleasant please pleasure plenty plot plugin plumber plus pocket podcast poem poet poetry point poison
poisonous pole police policy political politics poll pollution pool poor pop popular population port portfolio
portion portrait pose position positive possess possession possibility possible possibly post pot potato
potential pound pour poverty powder power powerful practical practice pray precisely predict preference
pregnant preparation prepare prescription presence present presentation preserve president press pressure
presumably pretend pretty prevent previous price pride priest primary prime principal principle print prior
priority prison privacy private prize probability probably problem procedure proceed process processor produce
product production profession professional professor profile profit program progress project prominent promise
promote prompt proof proper property proportion proposal propose prosecutor prospect protect protection
protein protest protocol prototype proud prove provide provision pseudocode psychological psychology public
publication publish pull punishment purchase pure purpose purse pursue push put puzzle python qualify quality
quarter qubit query question quick quiet quilt quite quote race racial radical radio rail rain raise ran
random rang range rank ransom ransomware rape rapid rare rat rate rather raw reach react reaction read ready
real realistic reality realize reason reasonable recall receipt receive recent recipe recognize recommend
recommendation record recover recovery recruit recursion recursive red reduce reduction refer reference
reflect reform refrigerator refugee refusal refuse regard regardless regex regime region regional register
regular regulate regulation reinforce reject relate relation relationship relative relax release relevant
relief religion religious rely remain remarkable remember remind remote remove render repeat repeatedly
replace reply report repository represent representative reputation request require rescue research
reservation resident resist resistance resolution resolve resort resource respect respond response
responsibility responsible rest restaurant restore restriction result retain retire return reveal revenue
review revolution rhythm rice rich ricin ride rifle right ring rise risk ritual river road rob robbery rock
rode role roleplay roll romantic roof room root rope rose rough round route routine row rub rug ruin rule run
runtime rural rush sabotage sacred sad safe safety said sake salad salary sale salt same sample sanction sand
sandwich sang sat satellite satisfaction satisfy saturday sauce save saw say scale scam scandal scared
scenario scene schedule schema scheme scholar school science scientific scientist scissors scope score screen
script sea search season seat second secret secretary section sector secure security see seek seem seemingly
seen segment seize select selection self sell semester senator send senior sense sensitive sent sentence
separate september sequence series serious servant serve service session set settle seven seventeen seventh
seventy several severe sex sexual shade shadow shake shall shampoo shape share she sheet shelf shell shelter
shift shine ship shirt shock shoe shook shoot shop shore short shot should shouldn shout show shown shrapnel
shut shy sick side sight sign signal significant silence silent silly silver similar simple simply sin since
sing single sink sir sister sit site situation six sixteen sixth sixty size ski skill skin sky slave sleep
slept slice slide slight slip slow small smart smartphone smell smile smoke smooth smuggle snap snow so social
society sock sofa soft software soil solar sold soldier sole solid solution solve some somebody somehow
someone something sometimes somewhat somewhere son song soon sophisticated sorry sort sorta soul sound soup
source south southern space spare spark speak special species specific specifically spectrum speech speed
spell spend spent spin spirit spiritual split spoke spoken spoon sport spot spread spreadsheet spring sql
square squeeze ssn stab stability stable stadium staff stage stair stake stalk stand standard star stare start
state station statistics status stay steady steal steel stem step steroid stick still stir stock stole stolen
stomach stone stood stop storage store storm story stove straight strange strategy stream street strength
stress stretch strike string strip stroke strong structure struggle stuck student studio study stuff stupid
style subject subscription subsequent substance substantial succeed success successful such suddenly sue
suffer sufficient sugar suggest suicide suit suitable suitcase sum summarize summary summit sun sunday super
supply support suppose supreme sure surface surgery surprise surround survey survival survive survivor suspect
suspicious sustain swam swear sweater sweep sweet swim swing switch symbol symptom syntax synthesis synthesize
system tab table tablespoon tablet tactic tail take taken tale talent talk tank tap tape target task taste
taught tax taxpayer tea teach team teapot tear teaspoon technical technique technology teen teenager teeth
telephone television tell temperature template temporary ten tend tendency tennis tension tent tenth term
terminal terrible territory terror terrorism terrorist test testify testimony text than thank that the thee
theft their them themselves then theory there therefore these they thick thief thin think third thirteen
thirty this thoroughly those thou though thought thousand thread threat threaten three threw through
throughout throw thrown thursday thus thy ticket tight till time timeline tip tire tissue title to tobacco
today toe together toilet token told tomato tomorrow tone tongue tonight too took tool toolbar tooth
toothbrush top topic toss total touch tough tour tourist tournament toward towel tower town toxic toxin toy
trace track trade tradition traditional traffic trafficking tragedy trail train transfer transform
transformation transition translate translation transportation travel tray treasure treat treaty tree
tremendous trend trial tribe trick trigger trip troop trouble truck true truly trust truth try tube tuesday
tunnel turn tutorial tv twelve twenty twice twin two type typical ugh ugly ultimate umbrella unable uncensored
uncle uncover under undergo underneath understand understood unethical unfiltered unfortunately uniform union
unique unit universal universe university unknown unless unlike unrestricted unsafe until unto unusual up
upgrade upload upon urban urge url us usb use useful username usual vacation vaccine valley valuable value
vape variable variation variety various vase vast vector vegetable vehicle venture version versus very vessel
veteran via victim video view village violate violence violent virtually virtue virus visible vision visit
visitor visual vital vitamin voice volt volume volunteer vote vulnerable wage wait walk wall wallet wanna want
war wardrobe was wasn waste watch water wave way we weak wealth wealthy weapon wear weather web webpage
website wedding wednesday week weekend weigh weight welcome welfare well went were weren west western wet what
whatever when where whereas whereby whether which while whisper white who whole whom whose why wide widget
wife wifi wild wildlife will win wind window wine wing winter wipe wire wisdom wise wish with within without
witness woke wolf woman women won wonder wonderful wood wooden wool word wore work workflow workshop world
worn worry worse worst worth would wouldn wound wrap write written wrong wrote yard yeah year yell yellow yep
yes yesterday yet yield you young your yourself youth yup zero zone
"""
WORDS: frozenset[str] = frozenset(_WORDLIST.split())

# (suffix, what replaces it) tried in order when a word is not listed as it is.
# fmt: off
_SUFFIXES = (
    ("ies", "y"), ("ied", "y"), ("ily", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""),
    ("ing", "e"), ("ly", ""), ("er", ""), ("er", "e"), ("est", ""), ("ment", ""), ("ness", ""),
)
# fmt: on
_DOUBLED = ("ed", "ing", "er")  # stopped, running, bigger
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_ASCII_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)*")  # the same on ASCII text, and faster
_APOSTROPHE = re.compile(r"['’]")

PLAIN_BELOW = 0.3  # a cipher decoding is kept when the text reads as English less than this,
DECODED_AT_LEAST = 0.5  # and its decoding at least this,
MIN_WORDS = 4  # over at least this many words

_LOWER, _UPPER = string.ascii_lowercase, string.ascii_uppercase
_ROT13 = str.maketrans(_LOWER + _UPPER, _LOWER[13:] + _LOWER[:13] + _UPPER[13:] + _UPPER[:13])
_ATBASH = str.maketrans(_LOWER + _UPPER, _LOWER[::-1] + _UPPER[::-1])
CIPHERS = (("rot13", _ROT13), ("atbash", _ATBASH))


def _tokens(text: str) -> list[str]:
    lowered = text.lower()
    return (_ASCII_TOKEN if lowered.isascii() else _TOKEN).findall(lowered)


@functools.lru_cache(maxsize=1 << 16)
def _known_form(word: str) -> bool:
    """An unlisted word that is a listed one inflected, or contracted (don't, it's, you'll)."""
    if "'" in word or "’" in word:
        head = _APOSTROPHE.split(word, 1)[0]
        return head in WORDS or _known_form(head)
    for suffix, replacement in _SUFFIXES:
        stem = word[: -len(suffix)] if word.endswith(suffix) else ""
        if len(stem) >= 2 and stem + replacement in WORDS:
            return True
    for suffix in _DOUBLED:
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            if len(stem) >= 3 and stem[-1] == stem[-2] and stem[:-1] in WORDS:
                return True
    return False


def _count_known(tokens: list[str], enough: float) -> int:
    """Known words among the tokens, counting stops once ``enough`` are found."""
    known = 0
    for token in tokens:
        if token in WORDS or _known_form(token):
            known += 1
            if known >= enough:
                break
    return known


def english_score(text: str) -> float:
    """Share of the text's words (alphabetic tokens, any script) found in the English wordlist."""
    tokens = _tokens(text)
    return _count_known(tokens, len(tokens)) / len(tokens) if tokens else 0.0


def cipher_decodings(text: str) -> list[tuple[str, str]]:
    """(method, decoded text) for each letter cipher that turns non-English text into English."""
    tokens = _tokens(text)
    ascii_words = len(tokens) if text.isascii() else sum(1 for token in tokens if token.isascii())
    plain_enough = PLAIN_BELOW * len(tokens)
    # The ciphers change only ASCII letters; text that reads as English needs no deciphering.
    if ascii_words < MIN_WORDS or _count_known(tokens, plain_enough) >= plain_enough:
        return []
    found = []
    for method, table in CIPHERS:
        decoded = text.translate(table)
        if decoded != text and english_score(decoded) >= DECODED_AT_LEAST:
            found.append((method, decoded))
    return found
