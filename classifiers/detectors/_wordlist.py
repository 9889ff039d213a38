"""A compact English lexicon for the cipher and trigger detectors (no download, no data file).

About 8,400 words: the most frequent words (present in at least two corpora) of the permissively
licensed English text in the project's shared data (MMLU, BIG-Bench Hard, UltraChat, FastChat, Glaive,
HH-RLHF, DiaSafety, OpenAI moderation samples, red-instruct questions), plus a hand-written core of
everyday words. Plain English prose scores a dictionary-hit rate of 0.8 to 0.95 against it (suffixes
stripped, see `_text.is_english`); a substitution cipher of the same prose scores under 0.1.
"""

from __future__ import annotations

_WORDS = """
a aapl abandoned abc abdomen abdominal abilities ability able abnormalities abortion abortions about
above abraham abroad absence absolute absolutely absorbed abstract abuse abused abusing abusive
academic accelerate acceleration accelerator accent accept acceptable acceptance accepted accepting
access accessible accident accidentally accidents accommodations accompanied accomplish accomplished
accordance according accordingly accordion account accountability accountable accountant accounting
accounts accumulation accuracy accurate accurately accused ache aches achieve achieved achievement
achievements achieving aching acid acids acknowledge acquire acquired acquiring acquisition acre
acres across act acted acting action actions activation active actively activists activities
activity actor actors actress acts actual actually acute ada adapt adaptation adaptive add added
addict addicted addiction addictions addictive adding addition additional additionally address
addressed addresses addressing adds adequate adjacent adjective adjectives adjust adjusted adjusting
adjustment adjusts administer administered administration administrative admiration admire admission
admit admitted admitting adopt adopted adorable ads adult adults advance advanced advancements
advantage advantages adventure adversarial adverse advertisement advertising advice advil advise
advised advocating aerobic aesthetics affair affairs affect affected affecting affects afford
affordable afraid africa african africans after afternoon afterwards again against age aged agencies
agency agenda agent agents ages aggression aggressive aging ago agree agreed agreeing agreement
agreements agrees agricultural agriculture ah ahead ahh ai aid aids aim aimed aims ain air airplane
airport aladdin alan alarm albert album alcohol alcoholic alert alex alexis algebra algebraic
algorithm algorithms alice alien aliens align aligned alive all alle alleged alleging allele
allergic allergies allergy alliance allies allocate allocation allow allowed allowing allows almond
almonds almost alone along alot alpha alphabetic alphabetically already alright als also alt alter
altered alternative alternatives although altitude always am amateur amazed amazing amazon ambiguous
amendment america american americans americas amid amino among amongst amount amounts amoxicillin
amp amplifier amsterdam amusement amy an ana anal analogy analyse analysis analyst analytics analyze
analyzed analyzing ancestor ancestors anchor ancient and andrew android angel angeles anger angle
angles angry animal animals anime ann anniversary announced announcement announces annoying annual
anonymity anonymous anonymously another answer answered answering answers ant antecedent anterior
anthony anti antibiotic antibiotics antifa antique antivirus ants anus anxiety anxious any anybody
anyhow anymore anyone anything anytime anyway anyways anywhere apart apartment apes api apis
apocalyptic apollo apologize apology app apparent apparently appeal appeals appear appearance
appeared appearing appears appellate append appetite apple apples appliances applicable applicants
application applications applied applies apply applying appointed appointment appreciate
appreciation approach approached approaches approaching appropriate appropriation approval approved
approximate approximately apps april arab arabia arabs archaeological archaic architect
architectural architecture arctic are area areas aren argon argue argued argues arguing argument
arguments arise arithmetic ark arm armed arms army around arrange arranged arrangement array arrays
arrest arrested arrive arrived arrogant arsenic arson art artery arthritis article articles artifact
artifacts artificial artificially artist artistic artists arts artwork as asbestos ascending ashamed
ashley asia asian asians aside ask asked asking asks asleep aspect aspects ass assault assembly
assess assessment assessments asset assets asshole assholes assign assigned assigning assignment
assignments assigns assimilation assist assistance assistant assistants associate associated
associates association associations assume assumed assumes assuming assumption assumptions asthma
asthmatic astronomy at ate atheist atheists atlantic atm atmosphere atom atomic atoms atp atrocities
attach attached attachment attack attacked attacking attacks attempt attempted attempting attempts
attend attending attention attic attitude attitudes attorney attract attracted attractions
attractive attracts attribute attributes attribution audience audio audit audited audits auf
augmented august aunt aus australia australian austria authentication authenticity author
authoritarian authoritarianism authorities authority authorization authorized authors autism auto
automate automated automatic automatically automation automobile autonomous autumn availability
available ave avenue average avid avoid avoidance avoiding award awards aware awareness away awesome
awful awkward aww axe axioms axis aztecs babe babies baby back background backlash backpack backward
backwards backyard bacon bacteria bacterial bad badly bag bags bailey bait bake bakery baking
balance bali ball ballet balloon balloons ballot balls ban banana bananas band bang bank banking
banks banned banquet bar barcode bare barely bark barking barrel barrier barriers bars base baseball
based basement basic basically basics basis basket basketball bastard bat batch bath bathroom batman
battery battle bay bdsm be beach bead beads beans bear beard bearing bears beast beat beaten beating
beatles beautiful beauty became because become becomes becoming bed bedroom beds bee beef been beer
bees before began begin beginning begins begun behalf behave behavior behavioral behaviors behaviour
behind being beings belief beliefs believable believe believed believes believing bell belle belly
belong belonging belongs below belt benchwarmer bend beneficial benefit benefits benjamin berlin
bernard berries berry bert besides best bet beta better betty between beverage beyond bias biased
biases bible bicycle bid bids big bigger biggest bigotry bike bilateral bill billion billions bills
billy bin binary binding binomial biological biology bird birds birth birthdate birthday bit bitch
bitches bitcoin bite bits bitter black blackberry blackmail blacks blade blah blame blamed blank
blanket blankets blasphemy blast bleed bleeding blessed blind blink blm block blockchain blocked
blocking blocks blog blonde blood bloody blow blowing blowjob blown blue blueberries blueberry
blueprint blueprints bmi board boarding boat bob bodies bodily body boil boiling bold bomb bombing
bombs bond bondage bonds bone bones bonus boobs book booked booking booklet books bookstore boolean
boost booster boot boots border borders bore bored boring born borrow borrowed boson boss bot both
bother bothered botnet bots bottle bottles bottom bought bound boundaries bow bowl bowls box boxes
boy boyfriend boys boyz bra bracelet brain brains brainstorm brake brakes branch brand branding
brave brazil breach breaches bread break breakdown breaker breakfast breaking breaks breast breasts
breath breathe breathing breed bribe bric brick bricks bride brides bridge brief bright brightness
bring bringing brings britain british bro broad broadcast broccoli broke broken broker bronchitis
broom brother brotherhood brothers brought brown brownie brownies browser browsing brunette brutal
brute btw bubble bucket buckets bud buddhist buddhists buddy budget budgets buffer bug bugs build
builder building buildings builds built bulb bulbs bull bullet bullied bullshit bully bullying bum
bunch bunny burden burger burgers burglary burgundy buried burn burned burning bury bus bush bushes
business businesses businessman busty busy but butt butter butterflies butterfly button buttons buy
buyer buyers buying buys by bye bypass byron bystander cab cabbage cabin cafe cake cakes calcium
calculate calculated calculates calculating calculation calculations calculator calculus calendar
california call called calling calls calm calorie calories cam came camel camera cameras camp
campaign campaigns camping campus can canada canadian canal cancer candidate candidates candies
candle candles candy cannabis canned cannot canon cans cant cap capabilities capability capable
capacitor capacity cape capital capitalism capitalist capitol captain captivating capture captured
car carbon card cardboard cardiac cardinal cardinals cardiovascular cards care cared career careful
carefully caregiver caregivers cares caring carol carpenter carried carrier carries carrot carrots
carry carrying cars cart carta carton cartons cas case cases cash cashier casino casserole cast
casting casual cat catalog catch catching catchy categories category catholic cats cattle caught
cauliflower causal causation cause caused causes causing caution cave celebrate celebrating
celebrity celery cell cells cellular celsius censorship center centered centers centimeter
centimeters central centralized centre cents centuries century ceo cereal certain certainly
certificate certification chain chains chair chairman challenge challenges challenging chamber
champagne championship chance chances change changed changes changing channel channels chaos chapter
character characteristic characteristics characterized characters charge charged charger chargers
charges charging charitable charity charles charming chart charts chase chat che cheap cheapest
cheat cheated cheating check checked checking checklist checkout checks cheek cheeks cheerleader
cheers cheese chef chemical chemicals chemistry cherries cherry cheryl chess chest chicago chick
chicken chickens chief child childhood children chill chills chin china chinese chips chloroform
chocolate choice choices choose choosing chores chose chosen christ christian christianity
christians christie christmas christopher chromosome chronic church cigarette cigarettes cinnamon
circle circuit circular circulatory circumstances cisgender cities citing citizen citizens
citizenship city civil civilization civilizations claim claimed claiming claims claire clarify class
classes classic classical classification classified classism classmate classroom clause clean
cleaner cleaning cleanup clear clearly clerk clever click client clients cliff climate climb climber
clinic clinical clip clit clock cloning close closed closely closer closest closet closing cloth
clothes clothing cloud club clubs clue clues clustering clusters coach coast coastal coasters coat
coats cocaine cock coconut code coded codes coding coefficient coefficients coerce coffee cognitive
coherent coin coins cold collaboration collapse collapsed collapses collar colleague colleagues
collect collected collecting collection collections collective collector collectors college collide
collinear collision colonial colonialism colonies colonist color colored colors colour columbus
column columns com combat combination combinations combine combined combining combustion come comedy
comes comfort comfortable coming command commander commands comment commentator comments commerce
commercial commission commit commitment committed committee committees committing common commonly
commonwealth communicate communication communications communism communist communities community como
companies company comparable compare compared compares comparing comparison comparisons compassion
compelling compensation compete competition competitive competitor competitors compilation compile
compiler complain complaint complaints complete completed completely completes completing completion
complex complexities complexity compliance complicated complications comply component components
compose composed composition compound compounds comprehension comprehensive compromise compromising
compute computer computers computing con conceal concealment concentration concentrations concept
conception concepts conceptual concern concerned concerning concerns concert concise conclude
concluded conclusion conclusions concrete concurrent condition conditional conditioning conditions
conduct conducted conducting conference confession confidence confident confidential confidentiality
confirm confirmation confirmed conflict conflicts conform confrontation confronted confused confuses
confusing confusion congestion congratulations congress congressional connect connected connecting
connection connections connectivity connector conquest conquests conquistadors cons conscious
consciousness consensual consensus consent consequence consequences conservation conservative
conservatives consider considerable consideration considerations considered considering consist
consistent consists console consolidation conspiracy const constant constantly constitute
constitutes constitution constitutional constitutionality constraint construct constructed
construction consult consultation consume consumed consumer consumers consuming consumption contact
contacted contacts contagious contain contained container containing contains contamination
contemporary contempt content contents contest context contexts continent continue continued
continues continuing continuous contract contracted contracting contracts contradictory contrary
contrast contribute contributed contributes contributing contribution contributions control
controlled controlling controls controversial controversy convenience conventional conversation
conversations conversion convert converted convertible converting convey conveyed convicted
conviction convince convinced convincing cook cooked cookie cookies cooking cool cooperation
coordinate coordinates cop copd cope copies coping copper cops copy copyright copyrighted coral cord
core corn corner corners corona coronavirus corporate corporation corporations correct corrected
correction correctly correctness correlated correlation correlations correspondence corresponding
corresponds cortex cosmology cost costs cotton couch cougar cough coughed coughing coughs could
couldn council counseling counselor count countably counter counterfeit counterfeiting counting
countries country counts county couple couples coupon coupons courage course courses court courtroom
courts cousin cout covenant cover coverage covered covering covers covid cow coworker cows crab
crack cracked cracking cramps crap crash crashed crashes crate crates crayon crayons crazy cream
create created creates creating creation creative creativity creator creators creature creatures
credentials credibility credit creditors credits crew cried crime crimes criminal criminals crisis
crispr criteria critic critical criticism criticize crop crops cross crossed crossing crow crowd
crowded crucial cruel crush crushed cry crybaby crying cryptocurrencies cryptocurrency cryptographic
cryptography crystal csr css ctrl cube cubic cucumber cuisine culinary cult cultural culture
cultures cum cunt cunts cup cupcake cupcakes cupid cups curb cure cured curie curious currencies
currency current currently curriculum curse cursor curve custody custom customer customers customize
cut cute cuts cutting cuz cyber cyberattacks cybersecurity cycle cycling czech dad daddy daily dairy
dallas dam damage damaged damages damaging damn dan dance dancer dancers dances dancing danger
dangerous dangers dans dar dare dark darkness das data database databases dataset datasets date
dates datetime dating daughter dave david day days daytime dead deadline deadly deal dealer
dealership dealing deals dealt dear death deaths debate debates debt dec decade decades decay
deceive december decent decentralized deception decide decided decides deciding decimal decision
decisions declaration declare declared decline decorations decrease decreased decreases decreasing
decrypt dedicated deductive deductively deed deemed deep deeper deepfake deeply deer def defacing
defame default defeat defect defective defects defence defend defendant defending defense defensive
deficiency deficit define defined defines definitely definition deforestation defraud degradation
degree degrees dehydration del delay delayed delays delbert delete deleted deleting deli delicious
deliver delivered delivery dem demand demanded demanding demands democracy democratic democrats
demographic demographics demonstrate demonstration den denial denied denigrating denmark dense
dental dentist deny department depend dependence dependent depending depends deploy deployed
deployment deposit deposits depressed depression deprivation depth der derivative derivatives
derived derogatory des descendants descending descent describe described describes describing
description descriptive desert deserve deserves design designated designed designer designing desire
desired desires desk desperate despite dessert destination destroy destroyed destroying destruction
destructive det detail detailed details detect detected detecting detection detector determinant
determination determine determined determines determining detroit develop developed developer
developers developing development developments develops deviant deviation deviations device devices
devil devotee devotees diabetes diabetic diagnose diagnosed diagnosis diagnostic dialogue diarrhea
diary dice dick dickhead dicks dictatorship dictionary did didn didnt die died dies diet dietary
diets differ difference differences different differential differently differs difficult
difficulties difficulty diffusion dig digit digital digits dilation dildo dilemma dimensional
dimensionality dimensions dimes dinger dinner dioxide diplomacy diplomatic direct directed direction
directions directly director directory dirt dirty disabilities disability disable disabled disagree
disagreements disagrees disappear disappeared disappointed disaster disasters discharge discharged
discipline disclose disclosing disclosure discomfort discount discounted discounts discourage
discouraged discourse discover discovered discovery discredit discriminate discriminated
discriminates discrimination discriminatory discuss discussed discussing discussion discussions
disease diseases disguise disgusting dish dishes disinformation dislike dislikes dismiss dismissed
disorder disorders dispensing disperse display displayed displaying displays disposal dispose
disproportionate dispute disputes disrupt disruption dissonance distance distancing distant distinct
distinction distinctive distinguish distort distress distribute distributed distributing
distribution distributor district districts dive divergent diverse diversity divide divided divides
dividing divine division divorce divorced dizziness dizzy dna dns do doc doctor doctors doctrine
document documents does doesn doesnt dog dogs doing doll dollar dollars dolls dolphin dolphins
domain domains domestic dominance dominant dominated don donald donations done donkey donna dont
donut donuts door doors doppler dos dosage dose dot dots double doubt doughnut down download
downtown downward dozen dr draft drag dragon drainage drama dramatic drank draw drawing drawn draws
dream dreams dress dressed drew dried drilling drink drinking drinks drip dripping drive driven
driver drivers drives driveway driving drop dropped dropping drought drove drowning drug drugs drum
drunk dry dryer drying duck ducks dude due dull dumb dumbass dump dumping duration during dust
duties duty dwelling dying dynamic dynamics dynasty dysfunction each eagle ear earlier earliest
early earn earned earnings ears earth earthquake ease easier easiest easily east eastern easy eat
eaten eating eats echo eclipse ecological economic economics economies economists economy ecosystem
ecosystems ecstasy edge edgy edit edited editing editor edits educate educated educating education
educational effect effective effectively effectiveness effects efficiency efficient efficiently
effort efforts egg eggs egyptian egyptians eigenvalues eight eighteen eighth eighty ein eine
einstein either elaborate elastic elbow elderly elected election elections electric electrical
electricity electronic electronics electrons element elementary elements elephant elephants elevated
elevation eleven eli elif eligibility eliminate elimination elite elizabeth ellipse else elsewhere
email emails embarrassed embarrassing embezzle embrace emergency emerging emily emissions emit
emotion emotional emotionally emotions empathy emperor empire employ employed employee employees
employer employment empty enable enables enabling enacted encode encoded encoding encompasses
encounter encounters encourage encouraged encourages encouraging encrypted encryption end endangered
ended ending endless endoplasmic endpoint endpoints ends enemies enemy energy enforce enforced
enforcement engage engaged engagement engaging engine engineer engineering engines england english
enhance enhancement enigma enjoy enjoyed enjoying enjoys enormous enough enrich enroll ensure
ensures ensuring entails entanglement enter entered entering enters entertaining entertainment
entire entirely entirety entities entitled entity entrance entrepreneur entropy entry enum enumerate
envelope envelopes environment environmental environmentally environments enzyme enzymes epic
episode episodes equal equality equally equals equation equations equilibrium equipment equipped
equity equivalent era erase eraser erasers erectile erosion erotic erotica err error errors eruption
escape escaping escort especially espionage essay essays essential essentially est establish
established establishment estate esteem estimate estimated estimates etc ethical ethically ethics
ethnic ethnicity euclidean eugenics eukaryotes europe european europeans euros evade evading
evaluate evaluated evaluating evaluation evaporate evasion eve even evening evenings event events
eventually ever everest every everybody everyday everyone everything everywhere evidence evil evoke
evolution evolutionary evolve evolved ex exacerbate exact exactly exam examination examine examining
example examples exams excavation excel excellent except exception excerpt excess excessive exchange
exchanges excited exciting exclude excluded exclusion exclusionary exclusive exclusively excuse
execute executed executing execution executive executor exercise exercises exercising exhausted
exhibit exhibits exist existed existence existent existential existentialism existing exists exit
exotic expand expansion expect expectation expectations expected expecting expense expenses
expensive experience experienced experiences experiencing experiment experimental experimentation
experiments expert expertise experts expired explain explained explaining explains explanation
explanations explicit explicitly explode exploit exploitation exploiting exploits explore explorer
exploring explosion explosive explosives export exports expose exposed exposure express expressed
expressing expression expressions extended extends extension extensions extensive extent external
extort extortion extra extract extraction extracurricular extraordinary extreme extremely extremism
extremist extremists eye eyes eyesight fabricate fabricating face facebook faced faces facial
facilitate facilities facility facing fact factor factorial factors factory facts factual faggot
faggots fahrenheit fail failed failing fails failure fair fairly fairness fairy faith fake falcon
fall fallacies fallacy fallen falling falls false falsely falsify falsifying familiar families
family famous fan fanatics fans fantasies fantasy far fargo farm farmer farmers farms farther
fascinating fascism fascist fashion fashioned fast faster fastest fasting fat fatal fate father
fathers fatigue fatty fault faulty favor favorable favorite favors favourite fbi fear fears feathers
feature features featuring february fed federal fee feed feedback feeding feel feeling feelings
feels fees feet fell fellow fellowship felony felt female females feminist femme femmes fence fermi
fertilization fertilize fertilizer festival fetch fetish fetus fever few fewer fiber fiberglass
fibonacci fiction fictional fidel field fields fifteen fifth fifty fight fighting fights figure
figured figures file filed files fill filled filling fills film films filter filtered filters filthy
final finally finance financial find findall finding findings finds fine finger fingers finish
finished finite fire firearm firearms fired fires firm firms first fiscal fish fishes fishing
fission fist fit fitness fits fitting five fix fixed fixing flag flair flash flat flesh flew
flexibility flexible flies flight flights flip float flood floor florida flour flow flower flowers
flown flu fluctuations fluid fluids flute fly flying focus focused focuses focusing folder folders
folks follow followed follower followers following follows font food foods fool fooled foot footage
football footprint for forbid forbidden force forced forces forcing foreign foreigners forest
forever forgave forge forget forgot forgotten fork forks form formal format formation formatting
formed former forms formula formulas forth fortune forty forum forums forward fossil foster found
foundation founded founder four fourteen fourth fox fraction fracture fragile fragmentation frame
framework frameworks france francis francisco frank frankenstein fraud fraudulent frauen fred free
freedom freezer freezing french frequency frequent frequently fresh friday fridge friend friendly
friends friendship frog frogs from front fruit fruits frustrated frustration fry fuck fucked fucker
fuckin fucking fucks fuel fuels fugitive fulfill full fully fun function functional functionality
functioning functions fund fundamental funded funding fundraising funds funeral funny furious
further furthermore furthest fusion future futures gain gained gaining gains galaxies gallery gallon
gallons gambling game games gaming gang gangs gap gaping garage garbage garden gardener gardening
garlic gas gases gasoline gastrointestinal gate gather gathered gathering gaussian gave gay gays gdp
gear geese geile gender genders gene general generalization generally generate generated generates
generating generation generations generator generic genes genetic genetically genetics genital
genius genocide genotype genre gentlemen gently genuine genuinely geographical geography geological
geometric geometry george german germans germany germs get getelementbyid gets getting ghetto ghost
giant giants gif gift gifts ginger giraffe giraffes girl girlfriend girls give given gives giving
glacier glad gladys gland glands glass glasses global globalization globally globe glorify glory
gloves glucose gluten glycogen gmail go goal goalkeeper goals goat goats god godfather gods goes
gogh going gold golden golf gone gonna good goodbye goods google goose gorgeous gosh got gotta
gotten gouging gov govern governance government governmental governments governor gpa gps gpt grab
grabbed grade grades gradient gradual gradually graduate graffiti grain gram grammar grams grand
grandchild grande grandfather grandma grandmother grandpa grandson grant granted granting grape
grapes graph graphic graphics graphing graphs grasp grass grateful gratitude grave gravitation
gravitational gravity gray grease great greater greatest greatly greed greedy greek greeks green
greenhouse grew grey groceries grocery groom grooming gross ground grounds group groups grove grow
growing grown grows growth guarantee guaranteed guard guards guess guessing guest guidance guide
guidelines guilt guilty guitar gun guns gunshot gut guy guys gwen gym ha habit habitat habits hack
hacker hackers hacking had hadn haha hahaha haiku hair hairy half hall ham hammer han hand handed
handle handling hands hang hanging hannah happen happened happening happens happier happiness happy
har harass harassing harassment hard hardcore harder hardly hardware harm harmed harmful harming
harry harsh has hash hashtag hasn hasty hat hate hated hateful hates hating hatred hats have haven
having havoc hawaii hawking hazardous he head headache headaches headed header headlines heads heal
healed healing health healthcare healthier healthy hear heard hearing hears hearsay heart heat
heated heaven heavily heavy hedgehog hedgehogs hegemony height heirs heisenberg held helene helium
hell hello help helped helper helpful helping helpless helps helsinki hemoglobin hen hence henry
hens hentai her herd here hereby heritage hero heroin herpes herself hesitant hesitate het hexagon
hey hi hid hidden hide hiding hierarchies high higher highest highlighting highlights highly highway
hijack hiking hilarious hill him himself hindi hindu hindus hip hips hire hired hiring his hispanics
historic historical historically histories history hit hitler hits hitting hiv hm hmm hmmm hobbies
hobby hockey hold holding holds hole holes holiday holidays hollywood holocaust holy home homeless
homemade homeowner homes homework hominem homo homophobia homophobic homosexual homosexuality
homosexuals honest honestly honesty honey honor hood hook hookup hope hopefully hopeless hopes
hoping horizontal hormone hormones horn horny horrible horror horse horses hospital hospitals host
hostile hosting hosts hot hotel hour hourly hours house household houses housing houston how however
html http https hug huge hugo huh human humanity humans humidity humiliate humiliation hummingbird
humor humorous hundred hundreds hung hunger hungry hunt hunter hunting hurt hurtful hurting hurts
husband hydrated hydrogen hydrophobic hydrophobicity hyperinflation hypertension hypnosis hypocrite
hypocritical hypothalamus hypotheses hypothesis hypothetical i ibuprofen ice ich id idea ideal ideas
identical identification identified identifies identify identifying identities identity ideologies
ideology idioms idiot idiots idk if ignorance ignorant ignore ignored ignoring iii ill illegal
illegally illegitimate illness illnesses image images imagination imaginative imagine imbalance
imbalances immediate immediately immersive immigrant immigrants immigration immoral immune immunity
immutable impact impacts impedance imperial imperialism impersonate impersonating implement
implementation implemented implementing implements implications implied implying import importance
important imported imports impose imposed impossible impressed impression impressive imprisonment
improperly improve improved improvement improvements improving in inaccurate inadequate inadmissible
inappropriate inbox inc incapacitate incentives inception incest incestuous inch inches incidence
incident incite include included includes including inclusion inclusive income inconsistent
incorporate incorrect increase increased increases increasing increasingly incredibly increments
incubation indeed independence independent independently index india indian indians indicate
indicated indicates indicating indication indices indigenous indirect indirectly individual
individuals indoors induced induction inductive industrial industries industry ineffective
inequalities inequality inevitable inf infant infect infected infecting infection infections
infectious inferior infiltrate infinite infinity inflamed inflammation inflammatory inflation
inflict influence influenced influencer influences influential influenza info inform informal
information informative informed infrastructure infrequent inga ingredient ingredients inhabitants
inhale inhaled inhaler inherently inherit inheritance inherited initial initializes initially
initiated injection injured injuries injury injustice ink inner innocent innovation innovative input
inputs inquiry insane insect insects insecure insensitive insert inside insider insight insights
inspection inspiration inspired instability instagram install installation installed installing
installment instance instances instant instantly instead institution institutions instruct
instructed instruction instructions instructs instrument instruments insufficient insulin insult
insulting insults insurance int intake integer integers integral integrate integration integrity
intellectual intelligence intelligent intend intended intense intensity intent intention
intentionally intentions interact interacting interaction interactions interactive intercept
interchangeably interconnected intercourse interest interested interesting interests interface
interfere interference intergroup interior intermittent internal international internet
interpersonal interpret interpretation interpretations interpreted interpreter interracial
interrogation interstate interval intervention interview interviews intimidate intimidation into
intolerance intoxicated intravenous introduce introduced introduction intuitive invade invalid
invalidate invasion invented inventory inverse invest invested investigate investigation investment
investments investor investors invisible invitation invite invited invoice invoices involuntary
involve involved involvement involves involving ions ios iowa iphone iran iraq ireland irish iron
irrational irrelevant irrigation irritation irs is isaac islam islamic island isn iso isolate
isolated isolating isolation israel issue issued issues ist it italian italy itching itchy item
items iterate iterates iteration iterations iteratively its itself ive jack jacket jackson jail jam
james jamie jan jane janet january japan japanese jar jars jason java javascript jay jazz jealous
jeans jefferson jelly jennifer jerk jerry jesus jew jewelry jewish jews jim job jobs joe john
johnson join joined joining joint joke joker jokes joking jones joseph journey joy json judge judges
judgment judicial juice julia july jump jumping june junior junk jupiter jurisdiction jury just
justice justified justify juvenile karl karma kate keep keeping keeps kept key keyboard keys keyword
keywords kick kicked kid kidding kidnap kidnapping kidney kids kill killed killer killing kills
kilogram kilograms kilometer kilometers kilometre kim kind kinda kinds king kingdom kings kiss
kissed kissing kitchen kite kitten kittens kiwis kkk knee knees knew knife knight knives knob knock
know knowing knowingly knowledge known knows korea korean kung lab label labeled labels labor
laboratory laborer labour lack lacks ladies lady laid lake lamb lambs lamp lamps land landed
landlord landmarks lands landslide lang language languages lap laptop laptops large largely larger
largest las last lasting late lately later lateral latest latex latin latina latitude latter laugh
laughed laughing launch launched launching launder laundering laundry law lawn lawnmower laws
lawsuit lawyer lay layer layers layman lazy lead leader leaders leadership leading leads leaf league
leak leaks leaning leap learn learned learners learning learns lease leash least leather leave
leaves leaving lecture led ledger leeds left leftists leg legacy legal legally legislation
legislative legitimate legitimately legs lemon lemonade lemons len lena lend lending length lengths
leonardo leone les lesbian leslie less lesser lesson lessons let lethal lets letter letters letting
lettuce level levels leverage levofloxacin lgbt lgbtq liability liable liar liberal liberalism
liberals liberty libraries library libtard license licensed licenses lick licking lie lied lies life
lifestyle lifetime lift light lighting lightning lights like liked likelihood likely likes liking
lil lime limit limitations limited limits limousine lincoln linda line linear linearly lines
lingerie linguistic linguistics link linked linking links lion lions lip lips lipstick liquid liquor
lisa list liste listed listen listening listing lists liter literal literally literary literature
liters litre litres little live lived liver liverpool lives living lizard lmao load loaded loads
loan loans lobby local locally locals locate located location locations lock lockdown locked locks
log logarithmic logged logic logical logically login logout logs lol lolita london lonely long
longer longest longitude look looked looking looks loop loopholes loops loose lord los lose loser
losers loses losing loss losses lost lot lots loud louie louis love loved lovely lover lovers loves
loving low lower lowercase lowest loyal loyalty lsd luck lucky lucrative luggage lunch lung lungs
lure lust luther luxury lying lymph lyrics machine machinery machines mad made madrid magazine
magellan magenta magic magical magna magnetic magnitude mail main mainly mainstream maintain
maintained maintaining maintenance major majority make makes making malay male males malfunction
malfunctions malicious mall malware mama man manage manageable managed management manager managers
managing manchester manga mango mangoes manifest manipulate manipulated manipulates manipulating
manipulation manipulative manner manslaughter manual manually manufacture manufactured manufacturer
manufacturing manuscript many mao maori map mapping maps mar marble marbles march margin marginal
marginalized marie marijuana marine mark marked marker markers market marketing marketplace markets
marks marriage marriages married marry mars martin mary masculine mask masks mass massage masses
massive master mastered mastering masturbate masturbating masturbation match matches matching mate
material materials math mathematical mathematician mathematicians mathematics matrix matter matters
mature max maximize maximum may maya maybe mayor mcdonald me meal meals mean meaning meaningful
meanings means meant meanwhile measure measured measurement measures measuring meat mechanic
mechanical mechanics mechanism mechanisms med media median medical medication medications medicine
medieval meditation medium mediums meet meeting meetings meets mega mel melissa melon melt melted
member members membership membrane memes memo memorable memorial memories memorization memory men
menace mental mentally mention mentioned menu merchandise merchants mercury mercy mere merely merge
mess message messages messaging messed met meta metabolic metabolism metal metals metaphysics meteor
meteorite meter meters meth methamphetamine method methods methotrexate meticulously metric metrics
mexican mexicans mexico mhz miami mice michael michigan microsoft microwave mid middle midfielder
midpoint might mightn migrants migration mike mild mile miles milf military milk mill millimeter
million millions mimic min mind minded mindfulness minds mine mineral minerals mini minimize
minimizing minimum mining minister minor minorities minority minors minute minutes mirror mis
miserable misinformation misinterpreted mislead misleading misogyny misrepresent misrepresenting
miss missed missing mission mississippi mistake mistakes mistress mistrust misuse misusing mit
mitigate mitochondria mitosis mix mixed mixing mixture moaning mob mobile mock mocking mod mode
model modeling models moderate moderation moderators modern modification modified modify mods module
mol molecule molecules mom moment moments momentum mommy mona monday monetary money mongering mongol
monitor monitoring monkey monkeys monopoly monster month monthly months monuments mood moon moore
mop moral morality morally morals more moreover morning moron mortal mortality mortgage mosque most
mostly mother motherfucker mothers motion motivate motivated motivation motivations motor motorcycle
mount mountain mountains mouse mouth move moved movement movements moves movie movies moving mow
mowing mr mrs much mucus muffin muffins mug multi multicultural multiple multiplication multiply
multiplying mum municipality murder murdered murderer murders muscle muscles museum mushrooms music
musical muslim muslims must mustn mutation mutations mutual my myself mysterious mysteriously
mystery myth nah nail nails naked name named names nan nancy nand napoleon narea narrate narrative
narratives narrow nas nasal nash nasty nat nation national nationalism nationalist nations native
natives natural naturally nature naughty nausea navigation nazi nazis nclass ndef near nearby
nearest nearly necessarily necessary necessity neck necklace need needed needing needle needn needs
negation negative negatively neglect neglecting negligence negligent negotiation negotiations negro
negroes neighbor neighborhood neighborhoods neighboring neighbors neighbour neither neo nephew nerd
nerve nerves nervous nested net netflix network networking networks neural neuron neurons
neuroscience neutral neutrino neutron neutrons never nevertheless new newer newest newly news
newspaper newton next nfinally nfl nfor nfrom nhere nhowever nice niche nicht nickel niece nif
nigerian nigga niggas nigger niggers night nights nightstand nimport nin nine nineteen ninety nint
ninth nipples nitrogen nlp nnow no nobel nobody node nodes noise nolan nominal non none nonetheless
noodles nope nor norm normal normally norms north northern norway nose not notable notation note
notebook noted notes nothing notice noticed notices noticing notified noun nouns novel novels
november noverall now nowhere nplugging nprint nroot nso nth nthe nthere ntherefore nthis nto
nuclear nuclei nucleus nude null num numb number numbers numerical numerous nurse nurture nusing
nuts nwe nwhere oatmeal obama object objectifies objection objective objectives objects obligation
obligations obnoxious obscure observation observations observe observed observer observing obtain
obtained obtaining obvious obviously occasion occasional occasionally occupation occupied occur
occurred occurrences occurring occurs ocean octagon october odd odds oder odyssey of off offend
offended offense offensive offer offered offering offerings offers office officer officers offices
official officials offshore offspring often oh ohm oil ok okay old older oldest olive oliver
olympics on once one ones ongoing onion onions online only onto open opened opening openly opens
opera operate operating operation operations operator opinion opinions opium opponent opponents
opportunities opportunity oppose opposed opposing opposite opposition oppress oppressed oppression
oppressive optimal optimism optimization optimize optimized option options or oral orange oranges
orbit orbited orchestra order ordered ordering orders ordinance ordinary org organ organic
organisation organism organisms organization organizational organizations organize organized organs
orgasm orient orientation oriented origin original originally originated origins orwell oslo other
others otherwise ought ounce ounces our ourselves out outage outbreak outcome outcomes outdoor
outdoors outer outliers outline outlines output outputs outside outstanding oven over overall
overcome overdose overfitting overflow overseas overview overweight overwhelming owe owl own owned
owner owners ownership owns oxide oxygen pablo pac pack package packaging packet packets pad padding
page pages paid pain painful pains paint painted painter painting paintings pair paired pairs
pakistani pal pan pancake pancakes pandemic panel panels pangolin panic panties pants paper
paperclip papers par para paracetamol paradigm paradox paragraph paragraphs parallel parameter
parameters paranoid pardon parent parental parentheses parents pareto paris park parked parking
parkinson parks parmesan parrot part partially participants participate participating participation
particle particles particular particularly parties partition partly partner partners partnership
parts party pas pass passage passed passenger passengers passes passing passion passionate passive
passport password passwords past pasta patch path pathetic patient patients patrick patronage
pattern patterns paul pay paycheck payday paying payment payments pays pcp pdf pea peace peaceful
peach peaches peak peanut peanuts pear pearl pears peas peasants pedal pedestrian pedophile pee peer
peers pen penalties penalty pencil pencils penetration penguin penguins penicillin penis
pennsylvania pens pension pentagon people peoples pepper peppers per perceive perceived percent
percentage perception perfect perfectly perform performance performed performing performs perfume
perhaps perimeter period periods permanent permanently permissible permission permit permits
permitted perpetuate perpetuating persecution persistent person personal personality personalized
personally personnel persons perspective perspectives persuade persuasion persuasive pertaining
pertains pesticides pet peter petite petition pets pharmaceutical pharmacist pharmacy phase
phenomena phenomenon phenotype philadelphia philosopher philosophical philosophy phishing phlegm
phoebe phone photo photographs photon photons photos photoshop photosynthesis php phrase phrases
physical physically physician physicist physics piano pic picasso pick picked picking picnic pics
picture pictures pie piece pieces pies pig pigs pile pill pillow pills pilot pineapple pink pins
pint pints pipe pipeline pirate pirated piss pissed pitch pittsburgh pity pixels pizza place placebo
placed placement places placing plagiarism plague plain plan planck plane planet planets planned
planning plans plant planted planting plants plasma plastic plastics plate plates platform platforms
plausible play played player players playful playground playing plays please pleased pleasure plenty
plot pls plug plum plus pm pneumonia pocket podcast poem poetry point pointed pointer pointers
pointing pointless points poison poisoning poisonous poker poland polar polarization pole police
policies policy polish polite political politician politicians politics poll polls pollute pollution
polygon polynomial ponzi pool pools poop poor poorly pop popcorn popping popular popularity
populated population populations porch pork porn porno pornographic pornography pornstar port
portion portrays pos pose position positions positive positives possess possession possibilities
possibility possible possibly post postal posted posterior posting posts pot potassium potato
potatoes potential potentially pots potter pound pounds pour pov poverty powder power powered
powerful powers ppl practical practice practiced practices practicing practitioner prairie prank
pranks pray pre precautions precedence preceding precious precise precisely precision predator
predators predatory predefined predict predictable predicted predicting prediction predictions
predictive predisposed prefer preference preferences preferred pregnancy pregnant prejudice
prejudices preliminary premise premises premium preparation prepare prepared preparing prescribe
prescribed prescription presence present presented presents preservation preserve president
presidential presidents press pressed pressing pressure prestigious pretend pretending prettier
pretty prevail prevalent prevent prevented preventing prevention preventive previous previously
price priced prices pricing prick pride primarily primary prime primes prince princess principal
principle principles print printed printer printing println prints prior priorities prioritize
prioritizing priority prism prison prisoner privacy private privilege privileged privileges prix
prize pro probabilities probability probable probably problem problems procedural procedure
procedures proceeded proceedings proceeds process processed processes processing processors
procrastination procurement produce produced producer producers produces producing product
production productive productivity products profession professional professionals professor
proficiency profile profit profitable profits profound program programmed programmer programming
programs progress progresses progressive prohibited prohibits project projects prokaryotes prolonged
prominent prominently promise promised promises promote promotes promoting promotion prompt prompted
promptly prone proof propaganda propagate proper properly properties property proportion
proportional proposal proposed proposing proposition pros prosecuted prosecution prosecutor
prosperity prostitute prostitutes prostitution protagonist protect protected protecting protection
protective protein proteins protest protesting protocol protocols proud prove proved proven proves
provide provided provider provides providing province provision provisions provoking proxy
pseudoscientific psychological psychologist psychology public publicity publicly published publisher
puerto pull pulled pulling pulls pulmonary pulp pulse pump pumping punch punching punctuated punish
punished punishment punishments pupil puppies puppy purchase purchased purchaser purchases
purchasing pure purity purple purpose purposes purse pursue pursuing push pushed pushing pussy put
puts putting puzzle pyramid pyramidal pythagorean python quadratic quail qualified qualify quality
quantities quantity quantum quarantine quarantined quart quarter quarters quarts quasar que queen
queer queries query quest question questioned questioning questions queue qui quick quickly quiet
quietly quit quite quiz quizzes quote quotes rabbit rabbits race races racial racing racism racist
radiation radical radio radioactive radioactivity radius rage rail rain rainbow rainforest raining
raise raised raising rally ram ran ranch rancher rand random randomized randomly rang range rank
ransom ransomware rap rape raped rapes rapid rapidly rapist rapper rare rarely raspberry rat rate
rated rates rather rating ratings ratio rational rats raven raw ray raymond rays reach reached
reaches reaching react reaction reactions reactor read reader readers reading readings reads ready
real realise realism realistic reality realize realized realizes realizing really realm rear reason
reasonable reasonably reasoning reasons reassurance rebellion rebellious recall receipt receive
received receiver receives receiving recent recently receptionist receptors recessions recipe
recipes recipient recipients recognition recognize recognized recognizing recommend recommendation
recommendations recommended recommends record recorded recording recordings records recover
recovered recovering recovery recruit rectangle rectangular recurrent recursion recursive recycle
recycling red reddit redemption redirect reduce reduced reduces reducing reduction refer reference
referral referred referring refers reflect reflected reflective reflects reform reforms refrigerator
refugees refuse refused refuses regard regarded regarding regardless regards regime regimes region
regional regions register registered registration registry regression regret regular regularization
regularly regulate regulated regulation regulations regulatory rehabilitation reinforce
reinforcement reject rejected rejection relatable relate related relates relating relation relations
relationship relationships relative relatively relatives relativism relativity relax relaxation
relaxed release released releases releasing relevance relevant reliability reliable reliably
reliance relied relief relies religion religions religious reluctant rely relying remain remainder
remained remaining remains remedy remember remembered remind reminder reminds remorse remote
remotely removal remove removed removing renaissance rendered renewable rent rental repair repairing
repeat repeated repeatedly repeating repelled replace replaced replied replies reply report reported
reporter reporting reports represent representation representative representatives represented
representing represents reproduce reproductive republic republican republicans repulsive reputation
request requested requests require required requirement requirements requires requiring research
researcher researchers researching reserve reserved reserves residence resident residential
residents resignation resilience resist resistance resistant resistor resolution resolve resolved
resource resources respect respected respective respectively respiratory respond responded
responding responds response responses responsibilities responsibility responsible rest restaurant
restaurants restore restraint restrict restricted restriction restrictions result resulted resulting
results resume resuscitate retail retailer retain retard retarded retards reticulum retiree
retirement retrieve return returned returning returns reusable reveal revealed revealing reveals
revenge revenue revenues reverse review reviewed reviews revolution revolutionize reward rewards
rewrite ribs rice rich richard rid ridden riddle ride ridiculous riding riemann rifle rig rigging
right rights ring rings rip ripped rise risen rises rising risk risks risky ritual river rna road
roast rob robber robbery robbing robert robin robot robots robust rock rocket rocks rode role roles
roll rolled roller rolling rolls rom roma roman romance romantic rome roof rooftop room roommate
rooms roosevelt root roots rope rose roses rough roughly round rounded rounds route routers routes
routine rover row rowling royal rsa rub rubber ruby rude ruin ruined ruining rule ruled rules ruling
run rung running runny runs rural rush rushed russell russia russian ryan sabotage sack sacred
sacrifice sad sadness safe safely safer safety said saint sake sal salad salads salaries salary sale
sales salesperson salmon salon salt sam samantha same sample samples sampling san sanctions sand
sandwich sandwiches sang sanitizer sank sans sarah sarcastic sat satellite satisfaction satisfied
satisfies satisfy saturday sauce saudi sauna sausage save saved saves saving savings saw say saying
says scalar scale scales scam scams scan scarcity scare scared scarf scars scarves scary scenario
scenarios scene scenes schedule scheduled scheme schemes schindler school schoolmate schools schr
sci science scientific scientist scientists scissors scope score scored scores scoring scratchy
scream screaming screen screening screenshots screw script scripts scroll scrolls scrutiny sculpture
scum sea seal sean search searches searching season seasonal seasons seat second secondary seconds
secret secretary secretly secrets section sector secure secured securely securities security sedan
see seed seeds seeing seek seekers seeking seeks seem seemed seemingly seems seen sees segment
segregation seizure seldom select selected selection selector self selfish selfishness sell seller
sellers selling sells semester semi seminar semitic semitism senate senator send sending sends
senior sensation sense sensitive sensitivity sensory sent sentence sentences sentiment sentiments
seo separate separated separately separation september sequence sequences serial series serious
seriously serum serve served server servers serves service services serving session sessions set
sets setting settings settle settlement seven seventeen seventh seventy several severe severely
severity sex sexism sexist sexual sexuality sexually sexy shadow shadows shake shaken shakespearean
shaking shall shallow shame shampoo shan shape shaped share shared shares sharing shark sharks sharp
shave shaved shawshank she sheep sheet sheets shelf shell shelter shield shift shifted ship shipped
shipping shirt shirts shit shitty shock shocked shoe shoes shook shoot shooting shootings shop
shopper shopping shops short shorter shortest shortly shortness shorts shot shots should shoulder
shoulders shouldn show showed shower showing shown shows shrimp shut shy sibling sick sickness side
sided sides sidewalk sight sign signal signals signature signed significance significant
significantly signs sikh silence silent silk silly silver similar similarities similarly simple
simpler simplify simply simulate simulating simulation simultaneously sin since sind singer single
singles sink sinkhole sinus sinuses sir siri sis sissy sister sisters sit site sites sits sitting
situation situations six sixteen sixth sixty size sizes ski skill skills skin skinny skip skipping
skirt skirts skull sky slang slap slave slavery slaves sleep sleeping slept slice slid slight
slightly slime slip slipped slippery slit slogan slope slow slowed slower slowly slurs slut slutty
smack small smaller smallest smart smarter smartphone smartphones smell smelled smells smile smiling
smith smoke smoked smoking smooth smtp smuggle smuggling snack snacks snake snakes snap snapchat
sneak sneezing sniper snippet snow snowflakes so soap sob soccer social socialism socialist socially
societal societies society socioeconomic sociology sock socket socks socrates soda sodium sofa soft
software soil solar sold soldier soldiers sole solely solid soliloquy solitude solution solutions
solve solved solving som some somebody somehow someone something sometimes somewhat somewhere son
song songs sons soon sooner soothing sophisticated sore sorry sort sorted sorting sorts sought soul
souls sound sounding sounds soup sour source sources sourcing south southern sovereign sovereignty
soviet soy space spacecraft spaces spaghetti spain spam spanish spanking spark speak speaker
speaking special specialist specialized species specific specifically specified specify spectrum
speculative speech speed speeding speeds spell spelling spend spending spends spent sperm sphere
spherical spider spiders spikes spin spinach spinal spinner spirit spirits spiritual spirituality
spit spite split splitting spoke spoken spoofing spoon spoons sport sports spot spots spotting
spouse spray spread spreading spreads spring spy spying sql sqrt squad square squares squeeze stab
stability stable stack stacked stacks staff stage stages stalin stalk stamp stamps stance stand
standard standardized standards standing stands star stare stars start started starting starts
startup starving state stated statement statements states static stating station stations
statistical statistically statistics stats statue status statutory stay stayed staying stays std
steady steak steal stealing steals steel steering step stepbrother stepped steps stepsister
stereotype stereotypes steroid steroids steven stick sticker stickers sticks still stimulate
stimulation stink stir stock stocks stole stolen stomach stone stones stood stop stopped stopping
stops storage store stored stores stories storm story stove str straight straightforward strain
strange stranger strap strategic strategies strategy straw strawberries strawberry stream streaming
street streets strength strengths strep stress stressed stretch stretching strict strictly strike
striker strikes striking string strings strip stroke stroking strong stronger strongest strongly
struck structural structure structured structures struggle struggling stuck student students studied
studies studio study studying stuff stuffy stupid style styles sub subfield subject subjective
subjects subliminal submission submissive submit submitted subreddit subs subscribe subscribed
subsequence subsequent subsequently subset subsidies substance substances substantial substantially
substitute substitution subtle subtract subtracting subway succeed success successful successfully
such suck sucked sucking sucks sudden suddenly sue sued suez suffer suffered suffering sufficient
sufficiently sugar suggest suggested suggesting suggestion suggestions suggests suicidal suicide
suit suitable suited sum summarize summary summer summit sums sun sunday sung sunglasses sunlight
super superficial superhero superior superiority supermarket supernatural supernova superposition
supervised supervisor supplements supplier suppliers supplies supply support supported supporter
supporters supporting supportive supports suppose supposed suppress suppression supremacist
supremacists supremacy supreme sur sure surely surface surfaces surfboard surgeon surgery surgical
surprise surprised surrounded surrounding surveillance survey surveys survival survive survived
survivors susan susceptible sushi suspect suspected suspects suspended suspicion suspicious sustain
sustainability sustainable sustained sutures suzy svg swam swap swear sweat sweater sweet swelling
swift swim swimming swing swinger swingers swiss switch swollen sword swore swum symbol symbolic
symbols symmetry symphony symptom symptoms syndrome synthetic syria system systematic systemic
systems table tables tacos tactics tag tagging tags tail take taken takes taking talent talents talk
talked talking talks tall taller tallest tamika tamper tampering tan tank tap tape target targeted
targeting targets tariffs task tasks taste tastes tattoo taught tax taxable taxation taxes taxi
taxonomy taylor tea teach teacher teachers teaching team teams tear tears teasing tech technical
technically technician technique techniques technological technologies technology teddy teen teenage
teenager teens teeth telephone telescope telescopes television tell teller telling tells temperature
temperatures template temple temporarily temporary ten tenant tend tendency tender tends tennis
tension tensions tenth tenure term terminal terminate terminated terminator terms ternary terrible
terrified territories territory terror terrorism terrorist terrorists tesla test tested testified
testify testimonials testimony testing tests texas text textbook textbooks texts thai than thank
thankful thanks thanksgiving that thats the theater theft their them theme themes themselves then
theorem theoretical theories theory therapist therapy there thereafter thereby therefore thereof
theres thermodynamics thermometer these they thick thief thigh thighs thin thing things think
thinking thinks thinly third thirsty thirteen thirty this tho thomas thompson thorough thoroughly
those though thought thoughts thousand thousands thread threat threaten threatened threatening
threats three threshold threw thriller throat through throughout throw throwing thrown thumb
thursday thus thyroid ticket tickets tide tie tied tiffany tiger tigers tight til till tilt time
timely times tina tiny tip tips tire tired tires tissue tissues tit titanium title tits to toast
toaster tobacco today todo toe together toilet token tokyo told tolerance tom tomato tomatoes
tomorrow ton tone tongue tonight tons tonsils too took tool tools tooth top topic topics tor tore
torn tornado toronto torrent torture tortured total totally touch touched touching tough tour
tourists tournament toward towards towel towels tower town toxic toxin toy toyota toys trace tracing
track tracking tracks tract tractor trade traded trading tradition traditional traditions traffic
trafficking tragic trailer train trained training trait traits trajectory tranny trans transaction
transactions transcript transfer transferred transform transgender transit transition translate
translated translation translations transmission transmitted transparency transparent transphobia
transphobic transport transportation trap trapezoid trapped trash trauma traumatized travel traveled
traveler traveling travelled travels traverse tray trays tre treasure treat treated treaties
treating treatment treatments treaty tree trees trend trends trial trials triangle triangular tribe
tribes trick tricks tricky tried tries trigger triggered triggering trillion trip triple trips
trivial trojan trojans troll trolling troops trouble truck true truly trump trumpet trust trusted
truth try trying tsunami tube tuberculosis tubes tuesday tuna tunnel turing turkey turkish turn
turned turning turns turquoise turtle turtles tutorial tutorials tutoring tv twat tweet twelve
twenty twice twin twist twitter two type types typical typically typing ugh ugly uh ultimate
ultimately ulysses umbrella una unable unaffected unauthorized unavailable unaware unbreakable
uncertain uncertainty unchanged uncle unclear uncomfortable unconscious unconstitutional uncountable
und under underage undercover undergo underlying undermine underneath understand understanding
understood underwater undetectable uneducated unemployed unemployment unequal unethical unexpected
unfair unfairly unfortunately unhappy unhealthy uninformed union unions unique unit united units
universal universe university unjust unknown unless unlike unlikely unlimited unnecessary unpleasant
unpopular unrelated unreliable unrest unsafe unseen unsuccessful unsupervised until unusual
unwelcome up update updated updates updating upload upon upper uppercase ups upset upward uranium
urban urbanization urge urgent urine url us usa usage usb usd use used useful useless user username
users uses using usual usually utility utilize utilized vacation vaccinated vaccination vaccinations
vaccine vaccines vacuum vagina val valentine valid validate validated validation validity valley
valuable valuables value valued values vampire van vandalize var variable variables variation
variations varies variety various vary varying vast vector vegas vegetable vegetables vehicle
vehicles velocity vendors venezuela venture verbal verdict verified verifies verify versa version
versus vertex vertical vertically vertices very vessels via viagra vice victim victims victoria
victory vid video videos vietnam vietnamese view viewed viewpoints views village villain vincent
vinci violate violated violates violating violation violations violence violent violently violin
viral virgin virtual virtue virtues virus viruses visas visibility visible vision visit visited
visiting visitors visits visual visualization vital vitamin vitamins vivo voice voices void volcanic
volleyball voltage volume voluntary volunteer volunteers vomiting von vote voted voter voters votes
voting vous vpn vpns vs vulnerabilities vulnerability vulnerable waffle wage wages wagon waist wait
waiting wake waking walk walked walking walks wall wallace wallet walls wanna want wanted wanting
wants war ward warehouse warfare warm warming warmth warn warned warning warrant wars was wash
washing washington wasn wasnt waste wasting watch watched watching water watering watermelon
watermelons watt watts wav wave wavelength waves way wayne ways we weak weaken weakness weaknesses
wealth wealthy weapon weapons wear wearing weather web webcam webpage website websites wed wedding
wednesday weed week weekend weeks weigh weighs weight weights weird welcome welfare well went were
weren west western wet whale whales what whatever whats whatsoever wheat wheel wheezing when
whenever where whereas whereby wherever whether which whichever while whilst whip whistles white
whites who whoever whole whom whore whores whose why wide widely wider widespread widgets widow
width wife wifi wiki wikipedia wild wildfire wildlife will william williams willing willingness win
wind window windows wine wing wings winner winners winning wins winston winter wire wires wisdom
wish wishes wishing with withdraw withdrawal within without witness witty wives woke woken wolf
wolves woman women won wonder wonderful wondering wonders wont wood woods wool word words wore work
worked worker workers working workmen workplace works world worlds worm worms worn worried worries
worry worrying worse worsening worship worst worth worthless worthy would wouldn wound wow wrap
wrapped wreaks wrist wrists write writer writers writes writing written wrong wrote wtf www
xenophobic xml xxx xxxx yard yards yea yeah year yearly years yelled yelling yellow yen yep yes
yesterday yet yields yoga yogurt york you young younger your youre yours yourself yourselves youth
youtube yrs yup yyyy zealand zebra zero zeros zimbabwe zionist zip zoe zone zones zoning zoo zum
"""

ENGLISH_WORDS: frozenset[str] = frozenset(_WORDS.split())
