"""Hand-written lists of common words for the embedded languages that need them.

:mod:`fleursr.synth.sentences` takes its filler words from Faker's per-locale word lists. Some
languages have no such list: Faker has no locale for them (Afrikaans, Urdu, Malay, Burmese,
Cantonese, Catalan), its locale has no word list (Portuguese, Georgian, Turkish, Swahili,
Amharic, Hindi, Tamil, Indonesian, Korean), its list is not made of real words (Hebrew) or
espeak-ng cannot read most of it (Japanese kanji). For those, the lists below hold everyday words
(house, water, city, book, friend, day, night, sun, sea, ...) in the language's own script,
written so that espeak-ng (and festival's Catalan voice) read them; Japanese is written in kana
only.
"""

from __future__ import annotations

WORDS: dict[str, tuple[str, ...]] = {
    "af_za": (
        "huis", "water", "stad", "skool", "boek", "vriend", "dag", "nag", "son", "see",
        "berg", "rivier", "boom", "blom", "brood", "moeder", "vader", "kind", "land", "taal",
        "woord", "tyd", "pad", "deur", "venster", "tafel", "werk", "familie", "goed", "groot",
        "klein", "nuut", "oud", "mooi", "vandag", "altyd", "musiek", "trein", "kos", "koffie",
        "mense", "lekker",
    ),
    "am_et": (
        "ቤት", "ውሃ", "ከተማ", "ትምህርት", "መጽሐፍ", "ጓደኛ", "ቀን", "ሌሊት", "ፀሐይ", "ባሕር",
        "ተራራ", "ወንዝ", "ዛፍ", "አበባ", "ዳቦ", "እናት", "አባት", "ልጅ", "አገር", "ቋንቋ",
        "ቃል", "ጊዜ", "መንገድ", "በር", "መስኮት", "ጠረጴዛ", "ሥራ", "ቤተሰብ", "ጥሩ", "ትልቅ",
        "ትንሽ", "አዲስ", "አሮጌ", "ቆንጆ", "ዛሬ", "ነገ", "ሁልጊዜ", "ሙዚቃ", "ባቡር", "ምግብ",
        "ቡና", "ሰላም",
    ),
    "he_il": (
        "בית", "מים", "עיר", "ספר", "חבר", "יום", "לילה", "שמש", "ים", "הר",
        "נהר", "עץ", "פרח", "לחם", "אמא", "אבא", "ילד", "ארץ", "שפה", "מילה",
        "זמן", "דרך", "דלת", "חלון", "שולחן", "עבודה", "משפחה", "טוב", "גדול", "קטן",
        "חדש", "ישן", "יפה", "היום", "מחר", "תמיד", "מוזיקה", "רכבת", "אוכל", "קפה",
        "שלום", "תלמיד",
    ),
    "hi_in": (
        "घर", "पानी", "शहर", "स्कूल", "किताब", "दोस्त", "दिन", "रात", "सूरज", "समुद्र",
        "पहाड़", "नदी", "पेड़", "फूल", "रोटी", "माँ", "पिता", "बच्चा", "देश", "भाषा",
        "शब्द", "समय", "सड़क", "दरवाज़ा", "खिड़की", "मेज़", "काम", "परिवार", "अच्छा", "बड़ा",
        "छोटा", "नया", "पुराना", "सुंदर", "आज", "कल", "हमेशा", "संगीत", "खाना", "चाय",
        "बाज़ार", "गाँव",
    ),
    "id_id": (
        "rumah", "air", "kota", "sekolah", "buku", "teman", "hari", "malam", "matahari", "laut",
        "gunung", "sungai", "pohon", "bunga", "roti", "ibu", "ayah", "anak", "negara", "bahasa",
        "kata", "waktu", "jalan", "pintu", "jendela", "meja", "kerja", "keluarga", "baik",
        "besar", "kecil", "baru", "lama", "indah", "besok", "selalu", "musik", "kereta",
        "makanan", "kopi", "pasar", "desa",
    ),
    "ja_jp": (
        "いえ", "みず", "まち", "がっこう", "ほん", "ともだち", "よる", "たいよう", "うみ", "やま",
        "かわ", "はな", "パン", "はは", "ちち", "こども", "くに", "ことば", "じかん", "みち",
        "ドア", "まど", "つくえ", "しごと", "かぞく", "おおきい", "ちいさい", "あたらしい",
        "ふるい", "きれい", "きょう", "あした", "いつも", "おんがく", "でんしゃ", "たべもの",
        "コーヒー", "おちゃ", "そら", "あめ", "さくら", "テレビ",
    ),
    "ka_ge": (
        "სახლი", "წყალი", "ქალაქი", "სკოლა", "წიგნი", "მეგობარი", "დღე", "ღამე", "მზე", "ზღვა",
        "მთა", "მდინარე", "ხე", "ყვავილი", "პური", "ღვინო", "დედა", "მამა", "ბავშვი", "ქვეყანა",
        "ენა", "სიტყვა", "დრო", "გზა", "კარი", "ფანჯარა", "მაგიდა", "სამუშაო", "ოჯახი",
        "კარგი", "დიდი", "პატარა", "ახალი", "ძველი", "ლამაზი", "დღეს", "ხვალ", "ყოველთვის",
        "მუსიკა", "მატარებელი", "სოფელი", "ბაზარი",
    ),
    "ko_kr": (
        "집", "물", "도시", "학교", "책", "친구", "날", "밤", "해", "바다",
        "산", "강", "나무", "꽃", "빵", "어머니", "아버지", "아이", "나라", "언어",
        "단어", "시간", "길", "문", "창문", "책상", "일", "가족", "좋은", "큰",
        "작은", "새로운", "오래된", "아름다운", "오늘", "내일", "항상", "음악", "기차", "음식",
        "커피", "시장",
    ),
    "ms_my": (
        "rumah", "air", "bandar", "sekolah", "buku", "kawan", "hari", "malam", "matahari", "laut",
        "gunung", "sungai", "pokok", "bunga", "roti", "emak", "bapa", "anak", "negara", "bahasa",
        "perkataan", "masa", "jalan", "pintu", "tingkap", "meja", "kerja", "keluarga", "baik",
        "besar", "kecil", "baharu", "lama", "cantik", "esok", "sentiasa", "muzik", "kereta",
        "makanan", "kopi", "pasar", "kampung",
    ),
    "my_mm": (
        "အိမ်", "ရေ", "မြို့", "ကျောင်း", "စာအုပ်", "သူငယ်ချင်း", "နေ့", "ည", "နေ", "ပင်လယ်",
        "တောင်", "မြစ်", "သစ်ပင်", "ပန်း", "အမေ", "အဖေ", "ကလေး", "နိုင်ငံ", "ဘာသာစကား",
        "စကားလုံး", "အချိန်", "လမ်း", "တံခါး", "စားပွဲ", "အလုပ်", "မိသားစု", "ကောင်း", "ကြီး",
        "အသစ်", "ဟောင်း", "လှ", "ဒီနေ့", "မနက်ဖြန်", "အမြဲ", "ဂီတ", "ရထား", "အစားအစာ",
        "ကော်ဖီ", "လက်ဖက်ရည်", "ရွာ", "ဈေး", "မိုး",
    ),
    "ca_es": (
        "casa", "aigua", "ciutat", "escola", "llibre", "amic", "dia", "nit", "sol", "mar",
        "platja", "riu", "arbre", "flor", "pa", "mare", "pare", "nen", "país", "llengua",
        "paraula", "temps", "carrer", "porta", "finestra", "taula", "feina", "família", "bo",
        "gran", "petit", "nou", "vell", "bonic", "avui", "demà", "sempre", "música", "tren",
        "menjar", "cafè", "mercat", "viatge", "muntanya", "poble", "estiu", "hivern",
    ),
    "pt_br": (
        "casa", "água", "cidade", "escola", "livro", "amigo", "dia", "noite", "sol", "mar",
        "praia", "rio", "árvore", "flor", "pão", "mãe", "pai", "criança", "país", "língua",
        "palavra", "tempo", "rua", "porta", "janela", "mesa", "trabalho", "família", "bom",
        "grande", "pequeno", "novo", "antigo", "bonito", "hoje", "amanhã", "sempre", "música",
        "comida", "café", "mercado", "viagem",
    ),
    "sw_ke": (
        "nyumba", "maji", "mji", "shule", "kitabu", "rafiki", "siku", "usiku", "jua", "bahari",
        "mlima", "mto", "mti", "ua", "mkate", "mama", "baba", "mtoto", "nchi", "lugha",
        "neno", "wakati", "njia", "mlango", "dirisha", "meza", "kazi", "familia", "nzuri",
        "kubwa", "ndogo", "mpya", "leo", "kesho", "daima", "muziki", "chakula", "kahawa",
        "chai", "habari", "soko", "gari",
    ),
    "ta_in": (
        "வீடு", "தண்ணீர்", "நகரம்", "பள்ளி", "புத்தகம்", "நண்பன்", "நாள்", "இரவு", "சூரியன்",
        "கடல்", "மலை", "ஆறு", "மரம்", "பூ", "ரொட்டி", "அம்மா", "அப்பா", "குழந்தை", "நாடு",
        "மொழி", "சொல்", "நேரம்", "சாலை", "கதவு", "ஜன்னல்", "மேசை", "வேலை", "குடும்பம்",
        "நல்ல", "பெரிய", "சிறிய", "புதிய", "பழைய", "அழகான", "இன்று", "நாளை", "எப்போதும்",
        "இசை", "உணவு", "காபி", "கிராமம்", "சந்தை",
    ),
    "tr_tr": (
        "ev", "su", "şehir", "okul", "kitap", "arkadaş", "gün", "gece", "güneş", "deniz",
        "dağ", "nehir", "ağaç", "çiçek", "ekmek", "anne", "baba", "çocuk", "ülke", "dil",
        "kelime", "zaman", "yol", "kapı", "pencere", "masa", "iş", "aile", "iyi", "büyük",
        "küçük", "yeni", "eski", "güzel", "bugün", "yarın", "müzik", "tren", "yemek", "kahve",
        "çay", "köy",
    ),
    "ur_pk": (
        "گھر", "پانی", "شہر", "اسکول", "کتاب", "دوست", "دن", "رات", "سورج", "سمندر",
        "پہاڑ", "دریا", "درخت", "پھول", "روٹی", "ماں", "باپ", "بچہ", "ملک", "زبان",
        "لفظ", "وقت", "سڑک", "دروازہ", "کھڑکی", "میز", "کام", "خاندان", "اچھا", "بڑا",
        "چھوٹا", "نیا", "پرانا", "خوبصورت", "آج", "کل", "ہمیشہ", "موسیقی", "کھانا", "چائے",
        "بازار", "گاؤں",
    ),
    "yue_hant_hk": (
        "屋企", "水", "城市", "學校", "書", "朋友", "今日", "聽日", "夜晚", "太陽",
        "海", "山", "河", "樹", "花", "麵包", "媽媽", "爸爸", "細路", "國家",
        "語言", "時間", "路", "門", "窗", "枱", "工作", "屋企人", "好", "大",
        "細", "新", "舊", "靚", "成日", "音樂", "火車", "食物", "咖啡", "茶",
        "我哋", "佢哋", "食飯", "鍾意", "返工", "街市",
    ),
}  # fmt: skip
