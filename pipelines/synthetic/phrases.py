"""Phrase banks the texts are assembled from, indexed by issue (params.ISSUES order), mood and language.

Variety matters more than length: a later stage must recover the planted issue from wording that
differs from text to text, and must not be able to key on one fixed sentence.
"""

from __future__ import annotations

BRAND = "Brightmart"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra "
    "Mark Ashley Donald Emily Steven Kimberly Andrew Donna Paul Michelle Joshua Carol Kenneth Amanda "
    "Kevin Melissa Brian Deborah George Stephanie Timothy Rebecca Ronald Laura Jason Sharon Jose Maria "
    "Luis Carmen Juan Ana Carlos Lucia Miguel Sofia Jorge Elena Ahmed Fatima Mohamed Aisha Omar Leila Wei "
    "Mei Jun Li Hiroshi Yuki Kenji Aiko Raj Priya Arjun Ananya Vikram Deepa Olivia Liam Emma Noah Ava "
    "Lucas Mia Ethan Chloe Hannah Lukas Anna Felix Lena Jonas Marie Pierre Camille Louis Hugo Ines Mateo "
    "Valentina Giulia Marco Sven Ingrid Piotr Katarzyna Olga Dmitri Chinedu Amara Kwame Ama Tariq Noor"
)
LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Patel Shah Kumar Singh Chen Wang Zhang Liu "
    "Tanaka Suzuki Sato Kim Park Choi Mueller Schmidt Schneider Fischer Weber Meyer Wagner Becker Dubois "
    "Moreau Laurent Bernard Rossi Russo Ferrari Esposito Silva Santos Oliveira Costa Novak Kowalski Nowak "
    "Ivanov Petrov Okafor Mensah Osei Haddad Khan Ali Hussein Doyle Murphy Kelly Byrne Jensen Nielsen "
    "Larsen Andersson Johansson"
)
AGENT_NAMES = _words(
    "Maria Tom Priya Daniel Sophie Marcus Aisha Kevin Laura Diego Hannah Sam Nadia Oliver Grace"
)
EMAIL_DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "proton.me",
    "mail.com",
)

# What a customer says first about each issue (tickets and calls).
ISSUE_OPENINGS: tuple[tuple[str, ...], ...] = (
    (
        "my order still hasn't arrived and it was due days ago",
        "the delivery is late again",
        "the tracking has said out for delivery since Monday",
        "my parcel missed the promised delivery date",
    ),
    (
        "my package seems to be lost, tracking hasn't moved in a week",
        "the parcel never arrived",
        "the carrier says it was delivered but I never got anything",
        "my order has disappeared somewhere",
    ),
    (
        "the item arrived damaged",
        "the box was crushed and the product inside is broken",
        "what I received is scratched and dented",
        "the glass jug came shattered",
    ),
    (
        "the product stopped working after two weeks",
        "the device keeps shutting off by itself",
        "it's faulty, it makes a grinding noise and then dies",
        "the battery won't hold a charge anymore",
    ),
    (
        "I'm still waiting for my refund",
        "my warranty claim was rejected and I don't understand why",
        "the refund I was promised never showed up",
        "my claim has been open for a month with no answer",
    ),
    (
        "I was charged twice for the same order",
        "there's a charge on my card I don't recognise",
        "my invoice shows the wrong amount",
        "you billed me after I cancelled",
    ),
    (
        "the person I spoke to last time was really rude",
        "your agent hung up on me",
        "nobody listens, the last agent was dismissive",
        "I was treated very unprofessionally by your staff",
    ),
    (
        "I've been on hold forever every time I call",
        "it took an hour to get through to anyone",
        "I waited forty minutes just to talk to someone",
        "your phone line is impossible to reach",
    ),
    (
        "I can't log in to my account",
        "my password reset link doesn't work",
        "my account got locked",
        "I can't change the e-mail address on my account",
    ),
    (
        "I'd like to return an item",
        "how do I send back something I don't want",
        "I need a return label",
        "I want to exchange a product for a different size",
    ),
)

# What the agent answers per issue.
AGENT_ACTIONS: tuple[tuple[str, ...], ...] = (
    (
        "I can see the parcel is held at the carrier's depot, it should go out tomorrow.",
        "The carrier reports a delay in your area; I've asked them to prioritise it.",
    ),
    (
        "I've opened an investigation with the carrier and I'll send a replacement today.",
        "The tracking stopped at the sorting centre, so I'm issuing a full refund.",
    ),
    (
        "I'm arranging a replacement and a prepaid label for the damaged one.",
        "Please keep the packaging; a courier will collect it and we'll send a new one.",
    ),
    (
        "That sounds like a fault; I've registered a warranty claim for you.",
        "I'll send a replacement unit and you can return the faulty one for free.",
    ),
    (
        "I've escalated the claim to our warranty team and flagged it as urgent.",
        "I can see the refund was approved, it should reach your account within five days.",
    ),
    (
        "I see the duplicate charge and I've reversed it.",
        "There was an error on the invoice; I've issued a corrected one.",
    ),
    (
        "I'm sorry about that experience, I'll pass it on to the team leader.",
        "That's not how we want to treat customers; I've logged a complaint.",
    ),
    (
        "I apologise for the wait, we're short-staffed this week.",
        "I'm sorry, the queues have been very long; I'll make sure we sort it out now.",
    ),
    (
        "I've reset your access, you should receive a new link in a minute.",
        "I've unlocked the account and updated your e-mail address.",
    ),
    (
        "I've created the return and e-mailed you the label.",
        "You can drop it at any parcel shop; the refund follows once it arrives.",
    ),
)

AGENT_GREETINGS = (
    ("Thank you for calling Brightmart, my name is ", ". How can I help you today?"),
    ("Good morning, you're through to Brightmart customer care, this is ", ", how can I help?"),
    ("Hi, thanks for holding, ", " speaking. What can I do for you?"),
    ("Brightmart support, ", " here. How may I help?"),
)
# Customer's hello per mood (0 angry, 1 frustrated, 2 calm) and how they give their name.
HELLOS = (
    ("Finally. ", "Yes, hello. ", "About time. "),
    ("Hi. ", "Hello. ", "Hi there. "),
    ("Hi, good morning. ", "Hello, thanks. ", "Hi, how are you? "),
)
NAME_INTROS = (("My name is ", ". "), ("This is ", ". "), ("It's ", " calling. "), ("I'm ", ". "))
ISSUE_LEADS = ("I'm calling because ", "I'm ringing because ", "Basically, ", "So, ", "The thing is, ")
HOLD_COMPLAINTS = (
    "I've been on hold for ages. ",
    "I waited on the line for so long. ",
    "That was a very long wait. ",
)
ASK_ORDER = (
    "I'm sorry to hear that. Could you give me the order number?",
    "Let me check. What's the order number?",
    "Sure, can I have your order reference please?",
)
ORDER_SAYS = (("It's ", "."), ("The order number is ", "."), ("Yes, ", "."), ("I have it here: ", "."))
ASK_CONTACT = (
    "Thanks. And the best number or e-mail to reach you?",
    "Can I confirm your contact details?",
    "What's the phone number or e-mail on the account?",
)
CONTACT_SAYS = (("Sure, it's ", "."), ("You can reach me on ", "."), ("That's ", "."), ("It should be ", "."))
CONTACT_JOINS = (" or by e-mail at ", ", and my e-mail is ", " or ")
ASK_CARD = (
    "Would you like me to update the payment card on file?",
    "Shall I put the charge on a different card?",
)
CARD_SAYS = (("Yes, please use ", "."), ("The card number is ", "."), ("Sure, it's ", ", the Visa."))
REACTIONS = (
    (
        "This is the third time, honestly I'm thinking of cancelling.",
        "That's not good enough.",
        "I've had it with this, I want it sorted today.",
        "Unbelievable. I expected better.",
    ),
    (
        "Okay, but I really need this fixed this week.",
        "Alright, I hope it actually happens this time.",
        "Fine, but please keep me updated.",
        "I see. That's a bit disappointing.",
    ),
    (
        "Great, thanks for checking.",
        "That's perfect, thank you.",
        "Oh good, that's helpful.",
        "Lovely, appreciate it.",
    ),
)
CLOSINGS = (
    "Is there anything else I can help you with?",
    "You'll get a confirmation by e-mail shortly.",
    "Thanks for your patience, have a good day.",
    "I've noted everything on your case.",
)
GOODBYES = (
    ("No. Bye.", "Just fix it. Bye."),
    ("No, that's all.", "Okay, thanks."),
    ("No, that's all, thank you!", "Thanks so much, bye."),
)

# Tickets: greeting, the issue, a request, and a sign-off.
TICKET_HELLOS = ("Hello, ", "Hi, ", "Hi team, ", "Good morning, ", "Dear support, ")
TICKET_ASKS = (
    ("Fix this now.", "This is unacceptable, I want a refund.", "Third message about this, please answer."),
    ("Can you look into it?", "Please advise.", "What are my options?"),
    ("Thanks in advance.", "Thank you!", "No rush, thanks."),
)
ORDER_REFS = (("Order number: ", "."), ("My order is ", "."), ("(order ", ")"), ("Ref ", "."))
REPLY_TOS = (("Please reply to ", "."), ("You can e-mail me at ", "."), ("Contact: ", ""))

# Verbatims and comments: per language, a sentence per issue for negative texts, and general
# neutral and positive sentences. Languages are in params.LANGUAGES order.
NEGATIVE: dict[str, tuple[tuple[str, ...], ...]] = {
    "en": (
        (
            "Delivery was a week late.",
            "Package showed up days after the promised date.",
            "Still waiting, way past the delivery date.",
            "Late again, the courier clearly doesn't care.",
            "Ordered for a birthday, it came after the party.",
        ),
        (
            "My order never arrived.",
            "Parcel lost somewhere, nobody can tell me where.",
            "Paid and received nothing.",
            "Tracking says delivered, but nothing at my door.",
            "The package vanished.",
        ),
        (
            "Arrived broken.",
            "The box was crushed and the item inside was cracked.",
            "Came scratched and dented.",
            "Half the set was smashed in transit.",
            "Poor packaging, product arrived damaged.",
        ),
        (
            "Stopped working after a month.",
            "Cheap quality, it broke almost straight away.",
            "Faulty unit, keeps turning off.",
            "The motor died after a few uses.",
            "Defective product, do not buy.",
        ),
        (
            "Still no refund after six weeks.",
            "Warranty claim rejected for no reason.",
            "They keep promising the money back, never comes.",
            "Waiting forever for my reimbursement.",
            "Refund process is a joke.",
        ),
        (
            "Charged twice for one order.",
            "Wrong amount on my bill.",
            "They billed me after I cancelled.",
            "Mystery charges on my card.",
            "Invoice errors every single month.",
        ),
        (
            "The agent was rude and dismissive.",
            "Staff hung up on me.",
            "Customer service treated me like an idiot.",
            "Unfriendly, unhelpful support person.",
            "Worst attitude I've ever seen from support.",
        ),
        (
            "On hold for an hour.",
            "Nobody answers the phone.",
            "Waited forty minutes to talk to someone.",
            "The queue never moves.",
            "Impossible to reach anyone.",
        ),
        (
            "Locked out of my account for days.",
            "Password reset doesn't work.",
            "Can't log in, nobody helps.",
            "The app keeps logging me out.",
            "Account settings are broken.",
        ),
        (
            "Returning an item is a nightmare.",
            "No return label, no answer.",
            "The return process is far too complicated.",
            "Still can't send my item back.",
            "They make returns deliberately difficult.",
        ),
    ),
    "es": (
        ("El pedido llegó una semana tarde.", "La entrega se retrasó otra vez."),
        ("Mi pedido nunca llegó.", "El paquete se perdió."),
        ("Llegó roto.", "La caja venía aplastada y el producto dañado."),
        ("Dejó de funcionar al mes.", "Producto defectuoso."),
        ("Sigo esperando el reembolso.", "Rechazaron mi garantía sin motivo."),
        ("Me cobraron dos veces.", "La factura está mal."),
        ("El agente fue muy maleducado.", "Me colgaron el teléfono."),
        ("Una hora en espera.", "Nadie contesta el teléfono."),
        ("No puedo entrar en mi cuenta.", "La contraseña no se puede cambiar."),
        ("Devolver algo es imposible.", "No me mandan la etiqueta de devolución."),
    ),
    "de": (
        ("Die Lieferung kam eine Woche zu spät.", "Wieder verspätet."),
        ("Meine Bestellung ist nie angekommen.", "Das Paket ist verloren gegangen."),
        ("Kam kaputt an.", "Der Karton war zerdrückt, das Gerät beschädigt."),
        ("Nach einem Monat defekt.", "Das Gerät geht ständig aus."),
        ("Warte immer noch auf meine Erstattung.", "Garantie ohne Grund abgelehnt."),
        ("Doppelt abgebucht.", "Die Rechnung stimmt nicht."),
        ("Der Mitarbeiter war unhöflich.", "Man hat einfach aufgelegt."),
        ("Eine Stunde in der Warteschleife.", "Niemand geht ans Telefon."),
        ("Ich komme nicht in mein Konto.", "Passwort zurücksetzen funktioniert nicht."),
        ("Rücksendung ist viel zu kompliziert.", "Kein Retourenschein."),
    ),
    "fr": (
        ("Livraison avec une semaine de retard.", "Encore en retard."),
        ("Ma commande n'est jamais arrivée.", "Colis perdu."),
        ("Arrivé cassé.", "Carton écrasé, produit abîmé."),
        ("Tombé en panne au bout d'un mois.", "Produit défectueux."),
        ("Toujours pas remboursé.", "Garantie refusée sans raison."),
        ("Débité deux fois.", "Erreur sur la facture."),
        ("Conseiller très impoli.", "On m'a raccroché au nez."),
        ("Une heure d'attente au téléphone.", "Personne ne répond."),
        ("Impossible de me connecter à mon compte.", "Le mot de passe ne se réinitialise pas."),
        ("Le retour est un cauchemar.", "Pas d'étiquette de retour."),
    ),
}
NEGATIVE_ENDINGS = {
    "en": (
        "",
        " Very disappointed.",
        " Never again.",
        " Sort it out, Brightmart.",
        " Thinking of switching.",
        " 1/5.",
    ),
    "es": ("", " Muy decepcionado.", " No vuelvo a comprar."),
    "de": ("", " Sehr enttäuscht.", " Nie wieder."),
    "fr": ("", " Très déçu.", " Plus jamais."),
}
NEUTRAL = {
    "en": (
        "It was okay.",
        "Delivery was fine, nothing special.",
        "Average experience.",
        "Does the job.",
        "Product is as described.",
        "Not bad, not great.",
        "Support answered eventually.",
    ),
    "es": ("Estuvo bien.", "Nada especial."),
    "de": ("War in Ordnung.", "Nichts Besonderes."),
    "fr": ("C'était correct.", "Rien de spécial."),
}
POSITIVE = {
    "en": (
        "Fast delivery and great quality!",
        "Arrived early, works perfectly.",
        "Really helpful support team.",
        "Love it, will order again.",
        "Excellent service from start to finish.",
        "Great value, very happy.",
        "The agent sorted everything in minutes.",
        "Best online shop I've used.",
    ),
    "es": ("¡Entrega rápida y muy buena calidad!", "Muy contento con la compra."),
    "de": ("Schnelle Lieferung, super Qualität!", "Sehr zufrieden."),
    "fr": ("Livraison rapide, très bonne qualité !", "Très satisfait."),
}
SOURCE_PREFIXES = (  # per params.SOURCES
    ("", "", "Title: "),
    ("@Brightmart ", "", "Hey @Brightmart "),
    ("Hello. ", "Hi, I'm writing about my recent order. ", "To whom it may concern: "),
    ("", "Hi. "),
)
EMAIL_SIGNOFFS = (" Regards, ", " Best, ", " Thanks, ")
