"""Everything the core says to users, in English, French and Spanish.

Scripted crisis text lives in `bot.safety.resources`; these are the bot's other words.
`t(key, language, **fields)` falls back to English.
"""

from __future__ import annotations

NOTICE_VERSION = 1

_TEXTS: dict[str, dict[str, str]] = {
    "notice": {
        "en": (
            "Hi. I'm an AI support chat, not a human and not a therapist, and I can't help in an "
            "emergency: if you are in danger, call your local emergency number or use /resources.\n\n"
            "What is kept: if you agree, your conversation is stored encrypted for {days} days so it "
            "can continue later, and you can /export or /forget it at any time. If you decline, your "
            "messages are not stored. Either way, if a message suggests you may be at risk, that "
            "message is shared with trained human moderators and kept with the alert, for your safety.\n\n"
            "You can chat either way. May I keep this conversation?"
        ),
        "fr": (
            "Bonjour. Je suis un chat de soutien automatique (IA), ni un humain ni un thérapeute, et je ne "
            "peux pas aider en cas d'urgence : si vous êtes en danger, appelez le numéro d'urgence local ou "
            "utilisez /resources.\n\n"
            "Ce qui est conservé : si vous acceptez, la conversation est conservée chiffrée pendant {days} "
            "jours pour pouvoir la reprendre, et vous pouvez l'obtenir (/export) ou l'effacer (/forget) à "
            "tout moment. Si vous refusez, vos messages ne sont pas conservés. Dans les deux cas, si un "
            "message laisse penser que vous êtes en danger, ce message est transmis à des modérateurs "
            "humains formés et conservé avec l'alerte, pour votre sécurité.\n\n"
            "Vous pouvez discuter dans les deux cas. Puis-je conserver cette conversation ?"
        ),
        "es": (
            "Hola. Soy un chat de apoyo con IA, no una persona ni un terapeuta, y no puedo ayudar en una "
            "emergencia: si estás en peligro, llama al número de emergencias local o usa /resources.\n\n"
            "Qué se guarda: si aceptas, la conversación se guarda cifrada durante {days} días para poder "
            "continuarla, y puedes obtenerla (/export) o borrarla (/forget) cuando quieras. Si no aceptas, "
            "tus mensajes no se guardan. En ambos casos, si un mensaje sugiere que puedes estar en riesgo, "
            "ese mensaje se comparte con moderadores humanos formados y se guarda con la alerta, por tu "
            "seguridad.\n\n"
            "Puedes hablar en ambos casos. ¿Puedo guardar esta conversación?"
        ),
    },
    "button_agree": {"en": "Agree", "fr": "J'accepte", "es": "Acepto"},
    "button_decline": {"en": "Decline", "fr": "Je refuse", "es": "No acepto"},
    "button_forget_yes": {"en": "Yes, erase everything", "fr": "Oui, tout effacer", "es": "Sí, borrar todo"},
    "button_cancel": {"en": "Cancel", "fr": "Annuler", "es": "Cancelar"},
    "help": {
        "en": (
            "I'm an AI you can talk to about how you feel. I'm not a therapist and I can't help in an "
            "emergency. Commands:\n/resources crisis lines and emergency numbers\n/human ask for a human "
            "moderator\n/country CC set your country for helplines (e.g. /country GB)\n/consent see or "
            "change what is stored\n/export get a copy of your data\n/forget erase your data\n/reset start "
            "a new conversation"
        ),
        "fr": (
            "Je suis une IA à qui vous pouvez parler de ce que vous ressentez. Je ne suis pas thérapeute et "
            "je ne peux pas aider en cas d'urgence. Commandes :\n/resources lignes d'écoute et urgences\n"
            "/human demander un modérateur humain\n/country CC choisir votre pays (ex. /country FR)\n"
            "/consent voir ou changer ce qui est conservé\n/export obtenir vos données\n/forget effacer vos "
            "données\n/reset nouvelle conversation"
        ),
        "es": (
            "Soy una IA con la que puedes hablar de cómo te sientes. No soy terapeuta y no puedo ayudar en "
            "una emergencia. Comandos:\n/resources líneas de crisis y emergencias\n/human pedir un moderador "
            "humano\n/country CC elegir tu país (p. ej. /country ES)\n/consent ver o cambiar lo que se "
            "guarda\n/export obtener tus datos\n/forget borrar tus datos\n/reset nueva conversación"
        ),
    },
    "consent_granted": {
        "en": "Thank you. This conversation will be stored encrypted for {days} days. /forget erases it at any time.",
        "fr": "Merci. Cette conversation sera conservée chiffrée pendant {days} jours. /forget l'efface à tout moment.",
        "es": "Gracias. Esta conversación se guardará cifrada durante {days} días. /forget la borra cuando quieras.",
    },
    "consent_declined": {
        "en": "Understood: your messages will not be stored. We can still talk.",
        "fr": "C'est noté : vos messages ne seront pas conservés. Nous pouvons quand même parler.",
        "es": "Entendido: tus mensajes no se guardarán. Podemos seguir hablando.",
    },
    "consent_revoked": {
        "en": "Done: I've stopped storing this conversation and deleted the stored transcript.",
        "fr": "C'est fait : je ne conserve plus cette conversation et la transcription conservée est supprimée.",
        "es": "Hecho: ya no guardo esta conversación y he borrado la transcripción guardada.",
    },
    "consent_unchanged": {
        "en": "Nothing changed: {state}.",
        "fr": "Rien n'a changé : {state}.",
        "es": "Nada ha cambiado: {state}.",
    },
    "consent_state_granted": {
        "en": "your conversation is stored, encrypted",
        "fr": "votre conversation est conservée, chiffrée",
        "es": "tu conversación se guarda, cifrada",
    },
    "consent_state_other": {
        "en": "your messages are not stored (except a message that raises a safety alert)",
        "fr": "vos messages ne sont pas conservés (sauf un message qui déclenche une alerte de sécurité)",
        "es": "tus mensajes no se guardan (salvo un mensaje que active una alerta de seguridad)",
    },
    "consent_show": {
        "en": "Right now {state}. You can change it below, or /forget to erase your data.",
        "fr": "Actuellement, {state}. Vous pouvez le changer ci-dessous, ou /forget pour effacer vos données.",
        "es": "Ahora mismo {state}. Puedes cambiarlo abajo, o /forget para borrar tus datos.",
    },
    "forget_confirm": {
        "en": "This erases everything stored about you: your transcript, settings and the text of any safety alerts. It can't be undone. Erase?",
        "fr": "Cela efface tout ce qui est conservé sur vous : transcription, réglages et texte des alertes de sécurité. C'est définitif. Effacer ?",
        "es": "Esto borra todo lo guardado sobre ti: transcripción, ajustes y el texto de las alertas de seguridad. No se puede deshacer. ¿Borrar?",
    },
    "forget_done": {
        "en": "Everything stored about you has been erased. If you write again, we start fresh.",
        "fr": "Tout ce qui était conservé sur vous a été effacé. Si vous écrivez à nouveau, nous repartons de zéro.",
        "es": "Se ha borrado todo lo guardado sobre ti. Si vuelves a escribir, empezamos de cero.",
    },
    "forget_cancelled": {"en": "Nothing was erased.", "fr": "Rien n'a été effacé.", "es": "No se ha borrado nada."},
    "export_header": {
        "en": "Here is everything stored about you (JSON):",
        "fr": "Voici tout ce qui est conservé sur vous (JSON) :",
        "es": "Esto es todo lo que se guarda sobre ti (JSON):",
    },
    "country_set": {
        "en": "Country set to {country}. /resources shows its helplines.",
        "fr": "Pays réglé sur {country}. /resources affiche ses lignes d'aide.",
        "es": "País configurado: {country}. /resources muestra sus líneas de ayuda.",
    },
    "country_invalid": {
        "en": "Please give a two-letter country code, for example /country US, /country GB or /country FR.",
        "fr": "Indiquez un code pays à deux lettres, par exemple /country FR, /country BE ou /country CA.",
        "es": "Indica un código de país de dos letras, por ejemplo /country ES, /country MX o /country US.",
    },
    "human_requested": {
        "en": "I've asked a human moderator to join. They are volunteers, so it may take a little while; I'll stay with you meanwhile. If you are in danger, please use /resources now.",
        "fr": "J'ai demandé à un modérateur humain de venir. Ce sont des bénévoles, cela peut prendre un peu de temps ; je reste avec vous en attendant. Si vous êtes en danger, utilisez /resources maintenant.",
        "es": "He pedido que se una un moderador humano. Son voluntarios, así que puede tardar un poco; sigo contigo mientras tanto. Si estás en peligro, usa /resources ahora.",
    },
    "human_unavailable": {
        "en": "I'm sorry: no human moderators are connected right now. Your request is recorded and they will see it. If you are in danger, please use /resources now.",
        "fr": "Désolé : aucun modérateur humain n'est connecté pour l'instant. Votre demande est enregistrée et ils la verront. Si vous êtes en danger, utilisez /resources maintenant.",
        "es": "Lo siento: ahora no hay moderadores humanos conectados. Tu petición queda registrada y la verán. Si estás en peligro, usa /resources ahora.",
    },
    "reset_done": {
        "en": "New conversation started.",
        "fr": "Nouvelle conversation commencée.",
        "es": "Nueva conversación iniciada.",
    },
    "unknown_command": {
        "en": "I don't know that command. /help lists what I can do.",
        "fr": "Je ne connais pas cette commande. /help liste ce que je peux faire.",
        "es": "No conozco ese comando. /help muestra lo que puedo hacer.",
    },
    "non_text": {
        "en": "I can only read text messages. Could you tell me in words?",
        "fr": "Je ne peux lire que du texte. Pouvez-vous me le dire avec des mots ?",
        "es": "Solo puedo leer mensajes de texto. ¿Me lo puedes contar con palabras?",
    },
    "empty": {
        "en": "I didn't receive any text. What's on your mind?",
        "fr": "Je n'ai reçu aucun texte. Qu'est-ce qui vous préoccupe ?",
        "es": "No he recibido texto. ¿Qué tienes en mente?",
    },
    "too_long": {
        "en": "Your message was very long, so I read the first {limit} characters.",
        "fr": "Votre message était très long ; j'en ai lu les {limit} premiers caractères.",
        "es": "Tu mensaje era muy largo, así que he leído los primeros {limit} caracteres.",
    },
    "rate_limited": {
        "en": "You're sending messages faster than I can read them, so I haven't read your last ones. Please wait a minute, then send again what matters. If you are in danger, use /resources.",
        "fr": "Vous envoyez des messages plus vite que je ne peux les lire, je n'ai donc pas lu les derniers. Attendez une minute, puis renvoyez ce qui compte. Si vous êtes en danger, utilisez /resources.",
        "es": "Envías mensajes más rápido de lo que puedo leerlos, así que no he leído los últimos. Espera un minuto y vuelve a enviar lo importante. Si estás en peligro, usa /resources.",
    },
    "busy": {
        "en": "I'm getting a lot of messages right now and couldn't write a reply. Please try again in a minute. If you need someone now, /resources lists people you can reach.",
        "fr": "Je reçois beaucoup de messages en ce moment et je n'ai pas pu répondre. Réessayez dans une minute. Si vous avez besoin de quelqu'un maintenant, /resources liste des personnes à joindre.",
        "es": "Estoy recibiendo muchos mensajes y no he podido responder. Inténtalo en un minuto. Si necesitas a alguien ahora, /resources muestra a quién acudir.",
    },
    "generation_failed": {
        "en": "I'm sorry, I couldn't write a reply just now; that's a problem on my side, not yours. Please try again in a moment. If you need someone now, /resources lists people you can reach.",
        "fr": "Désolé, je n'ai pas pu répondre ; le problème vient de moi, pas de vous. Réessayez dans un instant. Si vous avez besoin de quelqu'un maintenant, /resources liste des personnes à joindre.",
        "es": "Lo siento, no he podido responder; el problema es mío, no tuyo. Inténtalo en un momento. Si necesitas a alguien ahora, /resources muestra a quién acudir.",
    },
    "awaiting_moderator": {
        "en": "I hear you, and I've alerted a human moderator. Please contact the emergency number or crisis line above now, or someone near you. You don't have to go through this alone.",
        "fr": "Je vous entends, et j'ai alerté un modérateur humain. Contactez maintenant le numéro d'urgence ou la ligne d'écoute ci-dessus, ou quelqu'un près de vous. Vous n'avez pas à traverser cela seul·e.",
        "es": "Te escucho, y he avisado a un moderador humano. Contacta ahora con el número de emergencias o la línea de crisis de arriba, o con alguien cerca de ti. No tienes que pasar por esto a solas.",
    },
    "moderator_joined": {
        "en": "A human moderator has joined the conversation. Their messages are marked \"Moderator\".",
        "fr": "Un modérateur humain a rejoint la conversation. Ses messages sont marqués « Modérateur ».",
        "es": "Un moderador humano se ha unido a la conversación. Sus mensajes aparecen como «Moderador».",
    },
    "moderator_left": {
        "en": "The moderator has handed the conversation back to the AI assistant. /human asks for a person again.",
        "fr": "Le modérateur a rendu la conversation à l'assistant IA. /human redemande une personne.",
        "es": "El moderador ha devuelto la conversación al asistente de IA. /human vuelve a pedir una persona.",
    },
    "blocked": {
        "en": "This service is no longer available to you. If you are in danger, please call your local emergency number.",
        "fr": "Ce service ne vous est plus accessible. Si vous êtes en danger, appelez le numéro d'urgence local.",
        "es": "Este servicio ya no está disponible para ti. Si estás en peligro, llama al número de emergencias local.",
    },
    "restart_lost": {
        "en": "I'm sorry: I restarted before I could answer your last message. Could you send it again?",
        "fr": "Désolé : j'ai redémarré avant de pouvoir répondre à votre dernier message. Pouvez-vous le renvoyer ?",
        "es": "Lo siento: me reinicié antes de poder responder a tu último mensaje. ¿Puedes enviarlo de nuevo?",
    },
    "concern_signpost": {
        "en": "If things feel heavy, talking to someone can help: /resources lists people you can reach any time.",
        "fr": "Si c'est lourd à porter, en parler peut aider : /resources liste des personnes à joindre à tout moment.",
        "es": "Si todo pesa mucho, hablar con alguien puede ayudar: /resources muestra a quién acudir en cualquier momento.",
    },
    "moderator_label": {"en": "Moderator", "fr": "Modérateur", "es": "Moderador"},
}


def t(key: str, language: str, **fields: object) -> str:
    entry = _TEXTS[key]
    return entry.get(language, entry["en"]).format(**fields)
