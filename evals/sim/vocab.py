"""Word lists the simulated user's life is drawn from.

The lists are disjoint across roles (no pet shares a name with a person, no city is also an
employer), so a probe's expected answer is never ambiguous.
"""

from __future__ import annotations

__all__ = [
    "ALLERGENS",
    "CHITCHAT",
    "CITIES",
    "COUNTRIES",
    "DIETS",
    "EMPLOYERS",
    "EVENTS",
    "FEMALE_NAMES",
    "HOBBIES",
    "JOB_TITLES",
    "LIKE_ITEMS",
    "MALE_NAMES",
    "NEVER_MENTIONED_ITEMS",
    "PET_NAMES",
    "PET_SPECIES",
    "SENIOR_PREFIX",
]

CITIES = (
    "Lisbon", "Berlin", "Madrid", "Oslo", "Toronto", "Melbourne", "Dublin", "Vienna",
    "Prague", "Seattle", "Denver", "Austin", "Boston", "Chicago", "Edinburgh", "Manchester",
    "Copenhagen", "Stockholm", "Helsinki", "Zurich", "Munich", "Hamburg", "Barcelona",
    "Valencia", "Porto", "Lyon", "Marseille", "Milan", "Turin", "Amsterdam", "Rotterdam",
    "Brussels", "Vancouver", "Montreal", "Portland", "Atlanta", "Nairobi", "Cape Town",
    "Auckland", "Wellington", "Singapore", "Seoul", "Osaka", "Kyoto", "Buenos Aires",
)  # fmt: skip

COUNTRIES = (
    "Japan", "Iceland", "Peru", "Morocco", "Vietnam", "Greece", "Norway", "Mexico",
    "Portugal", "Chile", "Thailand", "Croatia", "Scotland", "Ireland", "Kenya", "Egypt",
    "Argentina", "Turkey", "Georgia", "Sri Lanka", "Indonesia", "Colombia", "Jordan",
)  # fmt: skip

EMPLOYERS = (
    "Spotify", "Zalando", "Siemens", "Shopify", "Atlassian", "Deloitte", "Unilever",
    "Philips", "Booking.com", "Adyen", "Klarna", "Canva", "Stripe", "Airbus", "Bosch",
    "Novartis", "Ericsson", "Nokia", "Accenture", "Salesforce", "Mozilla", "Wikimedia",
    "Greenpeace", "Oxfam", "Lufthansa", "Heineken", "Vodafone", "Ikea", "Lego", "Patagonia",
)  # fmt: skip

JOB_TITLES = (
    "data engineer", "product manager", "UX designer", "nurse", "accountant", "teacher",
    "software developer", "marketing manager", "data analyst", "architect", "copywriter",
    "project manager", "pharmacist", "civil engineer", "recruiter", "sales manager",
    "research scientist", "financial analyst", "graphic designer", "HR manager",
)  # fmt: skip

SENIOR_PREFIX = ("senior", "lead", "principal")

DIETS = ("vegetarian", "vegan", "pescatarian", "keto", "gluten-free", "paleo")

FEMALE_NAMES = (
    "Anna", "Sofia", "Maya", "Clara", "Ines", "Lena", "Nora", "Julia", "Emma", "Hannah",
    "Zoe", "Mia", "Elena", "Marta", "Priya", "Aisha", "Yuki", "Chloe", "Grace", "Rosa",
    "Leila", "Ingrid", "Camila", "Freya",
)  # fmt: skip

MALE_NAMES = (
    "Daniel", "Lukas", "Mateo", "Tom", "Jonas", "Omar", "Ravi", "Hugo", "Felix", "Liam",
    "Noah", "Diego", "Marco", "Sam", "Theo", "Ethan", "Kenji", "Pablo", "Erik", "Nikolai",
    "Adrian", "Jamal", "Oscar", "Simon",
)  # fmt: skip

PET_NAMES = (
    "Biscuit", "Miso", "Pepper", "Luna", "Mochi", "Ziggy", "Pickles", "Waffles", "Noodle",
    "Bramble", "Clementine", "Pumpkin", "Sprout", "Juniper", "Tofu", "Marbles", "Bagel",
    "Olive", "Nacho", "Pixel",
)  # fmt: skip

PET_SPECIES = ("dog", "cat", "rabbit", "parrot", "hamster", "tortoise")

HOBBIES = (
    "bouldering", "pottery", "salsa dancing", "chess", "birdwatching", "knitting",
    "trail running", "sourdough baking", "woodworking", "photography", "surfing",
    "rowing", "calligraphy", "gardening", "yoga", "cycling", "sailing", "painting",
    "archery", "fencing",
)  # fmt: skip

LIKE_ITEMS = (
    "sushi", "jazz", "horror movies", "spicy food", "coffee", "olives", "techno",
    "country music", "cilantro", "board games", "opera", "reality TV", "dark chocolate",
    "mushrooms", "poetry", "podcasts", "musicals", "anime", "craft beer", "blue cheese",
    "camping", "museums", "video games", "karaoke",
)  # fmt: skip

# Items the user never mentions: abstention probes ask about these.
NEVER_MENTIONED_ITEMS = ("ballet", "golf", "heavy metal", "oysters", "crossword puzzles")

ALLERGENS = ("peanuts", "shellfish", "penicillin", "pollen", "sesame", "latex", "bee stings")

EVENTS = (
    "half marathon", "jazz festival", "pottery workshop", "hackathon", "charity run",
    "cooking class", "book fair", "wine tasting",
)  # fmt: skip

CHITCHAT = (
    "Can you give me a quick recipe idea for dinner tonight?",
    "Tell me a joke, I need a laugh.",
    "How long should I steep green tea?",
    "What's a good way to remember people's names?",
    "Any tips for sleeping better?",
    "Can you explain what a Roth IRA is in simple terms?",
    "What's the difference between baking soda and baking powder?",
    "Recommend a podcast about history?",
    "How do I get a red wine stain out of a carpet?",
    "Can you help me word a polite email declining a meeting?",
    "What's a good stretch after sitting all day?",
    "Why is the sky blue, in one paragraph?",
    "Give me three ideas for a rainy Sunday.",
    "How many cups are in a litre?",
    "What should I pack for a weekend hike?",
    "Summarise the plot of Hamlet in two sentences.",
    "How do I make my houseplants stop dying?",
    "What's a fun fact about octopuses?",
    "Can you suggest a name for a book club?",
    "Is it better to stretch before or after a run?",
    "How do I politely tell a neighbour their music is too loud?",
    "What's a good board game for four players?",
    "Help me plan a cheap birthday surprise for a friend.",
    "Explain compound interest like I'm twelve.",
    "Ugh, long day. Just wanted to chat for a minute.",
    "Thanks for the help yesterday, by the way.",
    "What's the weather usually like in spring in the mountains?",
    "Can you quiz me on capital cities?",
)
