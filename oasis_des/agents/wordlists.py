"""Word lists and weights for synthetic personas.

Weights are rough shares of the users of English-language social media (countries), of
the population (MBTI types, from published type-distribution surveys) and OASIS's own
Reddit personas (professions are the 16 US career clusters OASIS uses). They aim at
plausible variety, not at census accuracy.
"""

from __future__ import annotations

FEMALE_FIRST = (
    "Emma", "Olivia", "Ava", "Sophia", "Isabella", "Mia", "Amelia", "Harper", "Evelyn", "Abigail",
    "Emily", "Ella", "Grace", "Chloe", "Victoria", "Lily", "Hannah", "Zoe", "Nora", "Layla",
    "Aisha", "Fatima", "Priya", "Ananya", "Mei", "Yuki", "Sakura", "Ling", "Maria", "Sofia",
    "Lucia", "Camila", "Valentina", "Gabriela", "Ines", "Chiara", "Giulia", "Anna", "Lena", "Clara",
    "Freya", "Ingrid", "Astrid", "Amara", "Zainab", "Ngozi", "Chioma", "Leila", "Yasmin", "Noor",
    "Rachel", "Sarah", "Rebecca", "Naomi", "Hazel", "Ruby", "Alice", "Jade", "Elena", "Natalia",
)
MALE_FIRST = (
    "Liam", "Noah", "Oliver", "James", "Elijah", "William", "Henry", "Lucas", "Benjamin", "Theodore",
    "Jack", "Leo", "Ethan", "Daniel", "Samuel", "David", "Joseph", "Ryan", "Adam", "Owen",
    "Mohammed", "Omar", "Ali", "Yusuf", "Arjun", "Rohan", "Vikram", "Wei", "Hiroshi", "Kenji",
    "Jin", "Min-jun", "Carlos", "Diego", "Mateo", "Santiago", "Luis", "Pedro", "Marco", "Luca",
    "Matteo", "Lukas", "Felix", "Jonas", "Erik", "Lars", "Chinedu", "Kwame", "Tunde", "Kofi",
    "Thomas", "Michael", "Andrew", "Nathan", "Isaac", "Gabriel", "Hugo", "Ivan", "Dmitri", "Alex",
)
NEUTRAL_FIRST = (
    "Alex", "Sam", "Jordan", "Taylor", "Riley", "Casey", "Morgan", "Jamie", "Avery", "Quinn",
    "Rowan", "Sage", "Robin", "Charlie", "Skyler", "Kai", "River", "Emery", "Finley", "Remy",
)
LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres",
    "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
    "Mitchell", "Carter", "Roberts", "Khan", "Patel", "Singh", "Sharma", "Gupta", "Kumar", "Chen",
    "Wang", "Li", "Zhang", "Liu", "Yang", "Huang", "Tanaka", "Suzuki", "Sato", "Watanabe", "Kim",
    "Park", "Choi", "Silva", "Santos", "Oliveira", "Costa", "Pereira", "Rossi", "Russo", "Ferrari",
    "Bianchi", "Muller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Dubois", "Moreau",
    "Laurent", "Bernard", "Jansen", "de Vries", "Bakker", "Nielsen", "Hansen", "Johansson",
    "Andersson", "Novak", "Kowalski", "Ivanov", "Okafor", "Adeyemi", "Mensah", "Osei", "Haddad",
    "Hassan", "Ahmed", "Mahmoud", "Cohen", "Levi", "O'Brien", "Murphy", "Kelly", "Walsh", "Byrne",
    "MacDonald", "Fraser", "Evans", "Hughes", "Morgan", "Price", "Reid", "Stewart", "Murray",
)
GENDERS = ("female", "male", "non-binary")
GENDER_WEIGHTS = (0.49, 0.49, 0.02)

MBTI = ("ISTJ", "ISFJ", "INFJ", "INTJ", "ISTP", "ISFP", "INFP", "INTP",
        "ESTP", "ESFP", "ENFP", "ENTP", "ESTJ", "ESFJ", "ENFJ", "ENTJ")
MBTI_WEIGHTS = (0.116, 0.138, 0.015, 0.021, 0.054, 0.088, 0.044, 0.033,
                0.043, 0.085, 0.081, 0.032, 0.087, 0.123, 0.025, 0.018)
MBTI_BLURB = {
    "I": "quiet and reflective", "E": "outgoing and talkative",
    "S": "practical", "N": "curious about big ideas",
    "T": "analytical", "F": "empathetic",
    "J": "organised", "P": "spontaneous",
}

COUNTRIES = ("US", "UK", "Canada", "Australia", "India", "Germany", "France", "Brazil", "Mexico",
             "Japan", "Nigeria", "South Africa", "Philippines", "Spain", "Italy", "Netherlands",
             "Ireland", "New Zealand", "Kenya", "Chile")
COUNTRY_WEIGHTS = (0.38, 0.1, 0.05, 0.04, 0.08, 0.04, 0.03, 0.04, 0.03,
                   0.03, 0.03, 0.02, 0.03, 0.02, 0.02, 0.02, 0.01, 0.01, 0.01, 0.01)

# Profession (career cluster) -> topics it makes more likely (names of policies.features).
PROFESSIONS: dict[str, tuple[str, ...]] = {
    "Agriculture, Food & Natural Resources": ("food", "climate"),
    "Architecture & Construction": ("economy", "technology"),
    "Arts, Audio/Video Technology & Communications": ("entertainment", "fashion"),
    "Business Management & Administration": ("economy", "finance"),
    "Education & Training": ("education", "society"),
    "Finance": ("finance", "economy"),
    "Government & Public Administration": ("politics", "society"),
    "Health Science": ("health", "science"),
    "Hospitality & Tourism": ("travel", "food"),
    "Human Services": ("society", "health"),
    "Information Technology": ("technology", "gaming"),
    "Law, Public Safety, Corrections & Security": ("politics", "society"),
    "Manufacturing": ("economy", "technology"),
    "Marketing": ("economy", "fashion"),
    "Science, Technology, Engineering & Mathematics": ("science", "technology"),
    "Transportation, Distribution & Logistics": ("economy", "travel"),
}
# A job title per profession, for bios and persona texts.
JOB_TITLES: dict[str, tuple[str, ...]] = {
    "Agriculture, Food & Natural Resources": ("farmer", "agronomist", "forester"),
    "Architecture & Construction": ("architect", "civil engineer", "builder"),
    "Arts, Audio/Video Technology & Communications": ("designer", "photographer", "journalist"),
    "Business Management & Administration": ("manager", "consultant", "entrepreneur"),
    "Education & Training": ("teacher", "lecturer", "tutor"),
    "Finance": ("accountant", "analyst", "banker"),
    "Government & Public Administration": ("civil servant", "policy adviser", "council officer"),
    "Health Science": ("nurse", "doctor", "pharmacist"),
    "Hospitality & Tourism": ("chef", "hotel manager", "tour guide"),
    "Human Services": ("social worker", "counsellor", "carer"),
    "Information Technology": ("software engineer", "data scientist", "sysadmin"),
    "Law, Public Safety, Corrections & Security": ("lawyer", "paramedic", "police officer"),
    "Manufacturing": ("technician", "machinist", "plant manager"),
    "Marketing": ("marketer", "brand strategist", "copywriter"),
    "Science, Technology, Engineering & Mathematics": ("researcher", "engineer", "statistician"),
    "Transportation, Distribution & Logistics": ("logistics planner", "pilot", "truck driver"),
}
STUDENT_TITLE = "student"

# Share of users with a topic as a main interest (Dirichlet base weights, order of TOPIC_NAMES
# is looked up by name in `synthetic`).
TOPIC_POPULARITY: dict[str, float] = {
    "politics": 1.6, "economy": 1.0, "technology": 1.3, "science": 0.8, "health": 0.9,
    "climate": 0.8, "sports": 1.3, "entertainment": 1.5, "education": 0.6, "travel": 0.8,
    "food": 0.9, "fashion": 0.7, "gaming": 0.9, "finance": 0.7, "society": 1.0, "pets": 0.7,
}

BIO_OPENERS = ("", "Proud ", "Aspiring ", "Recovering ", "Part-time ", "Lifelong ", "Retired ")
FAN_WORDS = ("enthusiast", "nerd", "fan", "lover", "junkie", "addict", "watcher", "geek")
HOBBIES = (
    "coffee first", "dog parent", "cat person", "runner", "amateur cook", "bookworm",
    "weekend hiker", "vinyl collector", "gardener", "cyclist", "chess player", "film buff",
    "traveller", "yoga every morning", "podcast addict", "board games", "photographer",
    "swimmer", "guitar player", "tea drinker",
)
BIO_TAILS = ("Views my own.", "Opinions are mine.", "RTs are not endorsements.", "", "", "")
HANDLE_WORDS = ("real", "the", "its", "just", "hey", "official", "daily", "mr", "ms", "im")

# What a user thinks of the focal issue, from strongly against (index 0) to strongly for (4).
STANCE_SENTENCES = (
    "firmly opposes it and says so often",
    "is sceptical of it",
    "has no settled view yet",
    "leans towards supporting it",
    "strongly supports it and argues for it",
)
