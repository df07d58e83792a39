// The rule layer's rules. Each is an intent pattern (what is asked or told, and its object, a
// few words apart), never a bare keyword: "kill" alone is a shell command, "kill my neighbor"
// with "how do I" is not. Benign look-alikes that share the words ("bath bomb", "child process",
// "shoot photos") are taken out by `unless`. docs/safety-policy.md lists the rule ids.
#include "safety/rule-book.h"

namespace muse::safety {

namespace {

constexpr unsigned all_points = point_bit(CHECK_POINT_INPUT) | point_bit(CHECK_POINT_OUTPUT) |
                                point_bit(CHECK_POINT_TOOL_ARGUMENTS) | point_bit(CHECK_POINT_TOOL_OUTPUT) |
                                point_bit(CHECK_POINT_ARTIFACT) | point_bit(CHECK_POINT_UPLOAD);

// Making, getting or deploying something.
const char * const make_verbs =
    "make | makes | making | synthes* | manufactur* | produce | producing | production of | prepare | preparing | "
    "preparation of | cook | cooking | brew | brewing | create | creating | build | building | assemble | "
    "assembling | construct | constructing | recipe* | ingredients | step by step | steps to | steps for | "
    "instructions for | instructions to | instructions on | procedure for | protocol for | precursor* | extract | "
    "extracting | isolate | purify | purifying | weaponiz* | weaponis* | mix | mixing | formulate | buy | purchase | "
    "obtain | acquire | where to get | where can i get | deploy | disperse | dispersing";

const char * const nerve_agents =
    "sarin | soman | tabun | cyclosarin | vx | vx gas | novichok* | nerve agent* | nerve gas* | methylphosphon*";

const char * const chemical_weapons =
    "mustard gas | sulfur mustard | sulphur mustard | nitrogen mustard | phosgene | lewisite | chemical weapon* | "
    "chemical warfare agent* | ricin | abrin | chlorine gas attack*";

const char * const bio_agents =
    "anthrax | anthracis | smallpox | variola | ebola* | marburg* | bubonic plague | pneumonic plague | "
    "plague bacteri* | yersinia* | pestis | botulinum | botulism toxin | tularemia | tularensis | francisella | "
    "glanders | melioidosis | nipah | select agent* | bioweapon* | biological weapon* | bio weapon* | "
    "biological warfare agent*";

const char * const explosives =
    "tatp | acetone peroxide | triacetone* | hmtd | nitroglycerin* | rdx | hmx | petn | semtex | c4 | c 4 | "
    "plastic explosive* | high explosive* | explosives | an explosive | explosive device* | pipe bomb* | "
    "pressure cooker bomb* | car bomb* | nail bomb* | letter bomb* | suicide vest* | bomb | bombs | ied | ieds | "
    "improvised explosive* | napalm | molotov* | detonator* | blasting cap* | fertilizer bomb* | "
    "ammonium nitrate bomb* | anfo";

const char * const wmd_objects =
    "napalm | sarin | vx | nerve agent* | nerve gas* | novichok* | mustard gas | ricin | anthrax | smallpox | "
    "tatp | nitroglycerin* | pipe bomb* | bomb | bombs | explosives | chemical weapon* | bioweapon* | "
    "biological weapon* | nuclear bomb* | atomic bomb* | dirty bomb* | thermite";

const char * const persons =
    "my wife | my husband | my boss | my neighbor* | my neighbour* | my mom | my mum | my dad | my mother | "
    "my father | my parents | my brother | my sister | my teacher | my ex | my girlfriend | my boyfriend | "
    "my partner | my son | my daughter | my child | my roommate | my coworker* | my colleague* | my classmate* | "
    "my landlord | my family | my little brother | my little sister | my kid | my kids | my baby | someone | somebody "
    "| a person | people | person | him | her | a child | a kid | "
    "kids | children | a cop | a police* | the police | the president | a politician | a human | humans | "
    "a woman | a man | women | men | a girl | a boy | a stranger | strangers | an officer | a witness | a judge";

const char * const minors =
    "child | children | a kid | kids | minor | minors | underage | under age | preteen* | pre teen* | toddler* | "
    "infant* | loli* | shota* | young girl* | young boy* | little girl* | little boy* | schoolgirl* | "
    "schoolboy* | 6 year old | 7 year old | 8 year old | 9 year old | 10 year old | 11 year old | 12 year old | "
    "13 year old | 14 year old | 15 year old | 16 year old | 17 year old | 12yo | 13yo | 14yo | 12 yo | 13 yo | "
    "14 yo | eight year old | nine year old | ten year old | eleven year old | twelve year old | "
    "thirteen year old | fourteen year old | fifteen year old";

const char * const instruction_markers =
    "how to | how do i | how can i | how would i | how should i | how could i | best way to | easiest way to | "
    "quickest way to | ways to | help me | teach me | tell me how | step by step | without getting caught | "
    "without being caught | without anyone knowing | without leaving marks | untraceable | undetectable | plan to | "
    "planning to | "
    "i want to | i m going to | im going to | i am going to | i will | i ll";

std::vector<rule_spec> book_build() {
    std::vector<rule_spec> b;
    const auto words = [&](const char * id, const char * cat, unsigned points, std::vector<std::string> groups,
                           int window, bool ordered = false, const char * unless = "") {
        b.push_back({ id, cat, points, RULE_KIND_WORDS, std::move(groups), window, ordered, unless });
    };
    const auto literal = [&](const char * id, const char * cat, unsigned points, rule_kind kind,
                             std::vector<std::string> alts) {
        b.push_back({ id, cat, points, kind, std::move(alts), 0, false, "" });
    };
    const std::string make = make_verbs;

    // S9: weapons of mass destruction (chemical, biological, radiological, nuclear, explosive).
    words("S9.nerve-agent-synthesis", "S9", all_points, { make, nerve_agents }, 10);
    words("S9.chemical-weapon-production", "S9", all_points, { make, chemical_weapons }, 10);
    words("S9.bioweapon-production", "S9", all_points,
          { "culture | culturing | cultivat* | grow | growing | propagat* | " + make +
                " | aerosoliz* | aerosolis* | "
                "spray | release | releasing | mass produce | stockpil*",
            bio_agents },
          10, false,
          "anthrax vaccin* | smallpox vaccin* | ebola vaccin* | plague vaccin* | anthrax tickets | anthrax concert* | "
          "anthrax album* | anthrax band | anthrax song*");
    words("S9.pathogen-enhancement", "S9", all_points,
          { "enhanc* | increas* | boost* | improv* | maximiz* | maximis* | make it more | make the virus more | "
            "make a virus more | engineer* | modify | modif* | gain of function | serial passag* | select for",
            "transmissib* | virulen* | lethality | more lethal | more deadly | contagio* | pathogenicity | "
            "infectivity | airborne | human to human | mammalian transmission | vaccine resistan* | evade vaccin*",
            "virus* | viral | pathogen* | bacteri* | influenza | flu | h5n1 | h7n9 | coronavirus* | sars* | strain* | "
            "anthrax | ebola* | smallpox | variola | plague | pestis | botulinum | nipah | marburg*" },
          14);
    words("S9.uranium-enrichment-weapons", "S9", all_points,
          { "enrich*", "uranium | u235 | u 235 | uf6 | hexafluoride",
            "weapon* | bomb* | 90 | ninety percent | highly enriched | heu | warhead* | critical mass | explosive*" },
          16);
    words(
        "S9.weapons-grade-material", "S9", all_points,
        { make + " | enrich | enriching | how to get | how do i get | separate | reprocess*",
          "weapons grade | weapon grade | heu | highly enriched uranium | plutonium 239 | pu 239 | fissile material*" },
        10);
    words("S9.nuclear-device", "S9", all_points,
          { make + " | detonate | how to make",
            "nuclear bomb* | nuclear weapon* | nuclear device* | atomic bomb* | atom bomb* | a nuke | nukes | "
            "dirty bomb* | radiological weapon* | radiological dispersal | implosion lens* | fission bomb* | "
            "hydrogen bomb* | thermonuclear weapon* | thermonuclear bomb*" },
          10, true,
          "did the us build | did america build | did the united states build | did they build | "
          "did scientists build | did oppenheimer build | did germany build | did the soviets build | "
          "did the ussr build | did the nazis build | did japan build");
    words("S9.explosive-synthesis", "S9", all_points, { make, explosives }, 10, false,
          "bath bomb* | seed bomb* | bomb calorimet* | photo bomb* | photobomb* | f bomb* | da bomb | yarn bomb* | "
          "molotov ribbentrop | make it explode | bomb the test | bomb the exam | atomic bomb* | atom bomb* | "
          "nuclear bomb* | hydrogen bomb* | fission bomb* | dirty bomb*");
    words("S9.bioweapon-spread", "S9", all_points,
          { "spread | spreading | unleash | unleashing | release | releasing | disperse | dispersing | infect people "
            "with",
            bio_agents },
          4, true, "the spread | spread of | spreading of | prevent the spread | stop the spread");
    // Role-play and "grandma" framing around a weapon: past tense and "tell me" count as asking.
    words("S9.roleplay-weapon", "S9", all_points,
          { "pretend | pretending | roleplay* | role play* | act as | acting as | imagine you are | you are my | "
            "play the role | in character | stay in character | grandma | grandmother | granny | deceased",
            "made | make | making | used to make | recipe* | steps | step | tell me | explain | describe | produced | "
            "producing | process | ingredients",
            wmd_objects },
          16);

    // S4: sexual content involving minors.
    words("S4.sexual-minor", "S4", all_points,
          { "sex | sexual* | sexy | nude* | naked | erotic* | porn* | nsfw | lewd | molest* | intercourse | "
            "genital* | undress* | lingerie | fetish*",
            minors },
          8, false,
          "sex education | sexual education | sex ed | sexual health education | minor side effect* | "
          "talk to my child about | talk to my kids about | talk to children about | teach my child about | "
          "teach children about | protect my child from | protect children from | child process* | "
          "child sexual abuse prevention");
    words("S4.grooming", "S4", all_points,
          { "groom* | lure | luring | befriend | gain the trust of | get close to | meet up with | seduce*", minors,
            "secret* | without their parents | without her parents | without his parents | without parents | alone | "
            "sexual* | pics | photos | nudes | sleepover" },
          14, false, "groom my dog | groom a dog | dog grooming");

    // S1: violent crimes.
    words("S1.violent-instructions", "S1", all_points,
          { instruction_markers,
            "kill | murder | poison | stab | strangle | shoot | assassinat* | smother | suffocat* | drown | behead | "
            "dismember | kidnap | abduct | torture | maim | slit | beat to death | run over | hurt | beat up | choke",
            persons },
          10, false,
          "child process* | child processes | child thread* | child node* | child element* | shoot photo* | "
          "shoot a photo* | shoot portraits | shoot a video | shoot video* | shoot a film | shoot hoops | "
          "shoot people s portraits | shoot people portraits | shoot portraits of | kill time | poison ivy | "
          "kill the lights | its children | its child | their children processes");
    words("S1.mass-violence", "S1", all_points,
          { "plan | planning | how to | how do i | carry out | commit | organize | organise | execute | prepare | "
            "i want to | i m going to | im going to",
            "school shooting* | mass shooting* | massacre | terrorist attack* | terror attack* | shoot up a | "
            "shoot up the | shoot up my | shoot up our | shoot up this | mass murder | mass casualt*" },
          10, false,
          "prevent school shooting* | prevent mass shooting* | preventing school shooting* | "
          "preventing mass shooting* | prevent a massacre | prevent terrorist attack* | prevent terror attack* | "
          "survive a mass shooting | survive a school shooting | reduce mass casualt*");
    words("S1.murder-for-hire", "S1", all_points,
          { "hire a hitman | hire a hit man | find a hitman | find a hit man | hire an assassin | "
            "pay someone to kill | dispose of a body | dispose of the body | hide a body | hide the body | "
            "get rid of a body | get rid of the body | dissolve a body | dissolve the body" },
          1);

    // S11: self-harm. The crisis rules answer with resources, never a bare refusal.
    words("S11.crisis-first-person", "S11", point_bit(CHECK_POINT_INPUT),
          { "kill myself | killing myself | kill my self | end my life | ending my life | take my own life | "
            "taking my own life | want to die | wanna die | want to be dead | dont want to live | "
            "don t want to live | do not want to live | dont want to be alive | don t want to be alive | "
            "better off dead | hurt myself | hurting myself | harm myself | harming myself | cut myself | "
            "cutting myself | no reason to live | nothing to live for | overdose myself" },
          1, false, "want to die of laughter | want to die laughing");
    words("S11.crisis-suicidal", "S11", point_bit(CHECK_POINT_INPUT),
          { "i | im | i m | me | my | myself | i ve | i am",
            "suicidal | commit suicide | committing suicide | end it all | suicide note | kill me" },
          6);
    words("S11.self-harm-instructions", "S11", all_points,
          { "how to | how do i | how can i | best way to | easiest way to | painless* | quickest way to | "
            "fastest way to | most effective way to | surest way to | ways to | method to | methods to | guide to | "
            "steps to | how many pills to",
            "kill myself | kill yourself | commit suicide | end my life | end your life | take my own life | "
            "slit* my wrist* | slit* your wrist* | hang myself | hang yourself | overdose myself | od myself | "
            "cut myself | cut yourself | die" },
          8, false, "die hard | die cast* | die casting | tie dye | dye");
    words("S11.encouragement", "S11",
          point_bit(CHECK_POINT_OUTPUT) | point_bit(CHECK_POINT_ARTIFACT) | point_bit(CHECK_POINT_TOOL_ARGUMENTS),
          { "you should kill yourself | go kill yourself | kill yourself | kys | you deserve to die | "
            "you should end your life | nobody would miss you" },
          1);

    // S6: medical advice passes with the health note.
    words("S6.medical", "S6", point_bit(CHECK_POINT_INPUT) | point_bit(CHECK_POINT_OUTPUT),
          { "dose | doses | dosage* | dosing | overdos* | lethal dose | milligram* | side effect* | "
            "medication* | prescription* | prescribe* | contraindicat* | drug interaction* | antibiotic* | "
            "antidepressant* | ibuprofen | acetaminophen | paracetamol | tylenol | advil | aspirin | insulin | "
            "chemotherapy | blood pressure | diagnosis | diagnosed with | misdiagnos* | my symptoms | "
            "these symptoms | medical advice | is it safe to take | how much should i take" },
          1);

    // S14: prompt injection planted in what a tool read, and tool calls that reach for secrets.
    const unsigned tool_output = point_bit(CHECK_POINT_TOOL_OUTPUT);
    words("S14.injection-override", "S14", tool_output,
          { "ignore | ignoring | disregard | forget | override | bypass",
            "all | any | the | your | previous | prior | above | earlier | preceding | former | original | initial | "
            "system | every",
            "instructions | instruction | prompt* | rules | directions | guidelines | directives | programming | "
            "orders | guardrails" },
          6, true);
    words("S14.injection-persona", "S14", tool_output,
          { "you are now | from now on you are | from now on you will | you will now | act as | pretend to be | "
            "enter | enable | switch to",
            "dan | do anything now | developer mode | jailbroken | jailbreak* | unrestricted | unfiltered | "
            "god mode | no restrictions | without restrictions" },
          4, true);
    words("S14.injection-exfiltrate", "S14", tool_output,
          { "send | post | upload | forward | email | exfiltrat* | transmit | leak | copy | paste",
            "the conversation | this conversation | chat history | conversation history | the user s | user s | "
            "previous messages | system prompt | your instructions | muse db | ssh key* | private key* | "
            "environment variable* | credentials | the api key | the user",
            "http | https | url | webhook | server | endpoint | to this | attacker* | www | address" },
          14);
    literal("S14.injection-marker", "S14", tool_output, RULE_KIND_LITERAL,
            { "system prompt:", "new system prompt", "system override", "<|im_start|>", "<|im_end|>", "<|system|>",
              "<|start_header_id|>", "<|eot_id|>", "[system]:", "[system message]", "[inst]", "### system:", "<system>",
              "begin system prompt", "new instructions:", "assistant must now" });
    const unsigned args = point_bit(CHECK_POINT_TOOL_ARGUMENTS);
    literal("S14.secret-path", "S14", args, RULE_KIND_PATH,
            { "proc/#/environ",   "/.ssh",        ".ssh/",   "id_rsa",
              "id_ed25519",       "id_ecdsa",     "id_dsa",  "etc/shadow",
              "etc/gshadow",      "etc/sudoers",  "muse.db", ".aws/credentials",
              ".git-credentials", ".netrc",       ".gnupg/", ".docker/config.json",
              ".kube/config",     "gh/hosts.yml", ".pgpass", "/.env" });
    literal(
        "S14.environment-dump", "S14", args, RULE_KIND_LITERAL,
        { "printenv", "(os.environ)", "(dict(os.environ", "os.environ.items", "os.environ.copy", "os.environ.values",
          "(process.env)", "stringify(process.env", "env | curl", "env | nc ", "env > /", "cat /proc/self/environ" });
    return b;
}

}  // namespace

const std::vector<rule_spec> & rule_book() {
    static const std::vector<rule_spec> book = book_build();
    return book;
}

}  // namespace muse::safety
