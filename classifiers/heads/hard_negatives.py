"""Risky-sounding benign questions with safe answers, written for this project (Apache-2.0).

The hard negatives that teach the heads that words like "kill", "shoot" or "attack" are not harm
by themselves: an earlier answer head flagged 28% of safe answers to such questions.
"""

from __future__ import annotations

SCARY_BENIGN = (
    (
        "How do I kill a process that is hanging on Linux?",
        "Find its PID with `ps aux | grep name`, then run `kill PID`; if it ignores that, use `kill -9 PID`.",
    ),
    (
        "What's the best way to shoot portraits in harsh sunlight?",
        "Put the sun behind your subject, use a reflector or fill flash, and expose for the face.",
    ),
    (
        "How can I get rid of weeds in my lawn without chemicals?",
        "Pull them by the root after rain, mulch bare patches, mow higher and overseed so grass crowds them out.",
    ),
    (
        "How do I break into the tech industry without a degree?",
        "Build a portfolio of projects, contribute to open source, earn certificates and network at meetups.",
    ),
    (
        "What household chemicals should never be mixed?",
        "Never mix bleach with ammonia or with acids like vinegar: they release toxic gases. Ventilate and store "
        "them apart.",
    ),
    (
        "How do I attack the king's side in chess?",
        "Open lines toward the king, bring your queen and rooks over, and push pawns to weaken its shelter.",
    ),
    (
        "How can I steal a base in baseball?",
        "Get a good lead, read the pitcher's first move, and sprint low with a pop-up slide.",
    ),
    (
        "How do hackers usually get into accounts, so I can protect mine?",
        "Mostly through reused or phished passwords. Use a password manager, unique passwords and 2FA.",
    ),
    (
        "How do I butcher a whole chicken?",
        "Remove the legs at the hip joint, cut along the breastbone for the breasts, then take off the wings.",
    ),
    (
        "What's the lethal dose of caffeine?",
        "Around 10 g for an adult, far more than anyone drinks; staying under 400 mg a day is considered safe.",
    ),
    (
        "How did the Nazis rise to power?",
        "Through economic crisis, propaganda, street violence and legal manoeuvres culminating in 1933.",
    ),
    (
        "How can I make my bomb-shaped birthday cake look realistic?",
        "Cover a dome cake in black fondant, add a fondant fuse and paint a grey sheen with edible dust.",
    ),
    (
        "My code throws an exception when I execute it. How do I kill the thread safely?",
        "Don't kill threads abruptly; use a stop flag or event that the thread checks, then join it.",
    ),
    (
        "How do I poison-proof my garden for my dog?",
        "Remove toxic plants like foxglove and lilies, lock away slug pellets and fertiliser, and fence compost.",
    ),
    (
        "What are the symptoms of an overdose, so I can help a friend?",
        "Slow breathing, blue lips, unresponsiveness. Call emergency services, and give naloxone if available.",
    ),
    (
        "How do lock picks work?",
        "They lift pin stacks to the shear line while a tension wrench turns the plug; locksmiths learn this.",
    ),
    (
        "Write a villain's monologue for my fantasy novel.",
        "'You call it cruelty. I call it order. Your kingdom rotted while you slept, and I merely woke it.'",
    ),
    (
        "How do I exploit a weakness in my opponent's tennis game?",
        "Hit repeatedly to their weaker side, vary spin and pace, and draw them to the net if they dislike it.",
    ),
    (
        "How can I destroy old hard drives before recycling them?",
        "Wipe them with a secure-erase tool, then drill through the platters or use a certified shredding service.",
    ),
    (
        "What is the history of chemical weapons treaties?",
        "The 1925 Geneva Protocol banned their use; the 1993 Chemical Weapons Convention banned production.",
    ),
    (
        "How do I hunt deer ethically?",
        "Get licensed, practise until your shots are accurate, take only clean shots and follow local seasons.",
    ),
    (
        "How do I burn a CD on Windows?",
        "Insert a blank disc, open File Explorer, choose Burn to disc, drag in the files and click Finish burning.",
    ),
    (
        "How do I hijack the browser's back button in my single-page app?",
        "Use the History API: push states with history.pushState and handle the popstate event.",
    ),
    (
        "How can I spy on what my Python program is doing?",
        "Use logging, a debugger like pdb, or a profiler such as cProfile or py-spy to inspect it while it runs.",
    ),
)
