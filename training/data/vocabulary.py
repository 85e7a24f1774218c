"""Word lists behind the generator: brands per label, category words, names, places, banks.

Pure data. Brands are real names as they appear on statements (often abbreviated); ``"*"`` means the
brand is seen in every country, otherwise a comma-separated list of country codes.
"""

from __future__ import annotations

# ruff: noqa: E501

Rows = tuple[tuple[str, str], ...]


def _rows(code: str, names: str) -> Rows:
    return tuple((name.strip(), code) for name in names.split(";") if name.strip())


BRANDS: dict[str, Rows] = {
    "ENTERTAINMENT": _rows(
        "*",
        "NETFLIX.COM;SPOTIFY;STEAM GAMES;STEAMPOWERED.COM;PLAYSTATION NETWORK;XBOX LIVE;NINTENDO ESHOP;DISNEY PLUS;APPLE.COM/BILL ITUNES;YOUTUBE PREMIUM;TWITCH;AUDIBLE;PRIME VIDEO;TICKETMASTER;EVENTBRITE;BET365;DAZN;EPIC GAMES;ROBLOX;IMAX;DEEZER;CRUNCHYROLL;PATREON",
    )
    + _rows(
        "US",
        "HULU;HBO MAX;AMC THEATRES;REGAL CINEMAS;DRAFTKINGS;FANDUEL;PARAMOUNT PLUS;PEACOCK TV;SIRIUSXM;STUBHUB;LIVE NATION;DAVE & BUSTERS;TOPGOLF;CHUCK E CHEESE;SIX FLAGS",
    )
    + _rows(
        "UK",
        "ODEON CINEMAS;VUE CINEMA;CINEWORLD;SKY BETTING;PADDY POWER;WILLIAM HILL;NOW TV;LADBROKES;NATIONAL LOTTERY;SEE TICKETS",
    )
    + _rows("NG", "SHOWMAX;BET9JA;SPORTYBET;FILMHOUSE CINEMAS;GENESIS CINEMAS;BOOMPLAY;NAIRABET;1XBET")
    + _rows(
        "EU", "CANAL PLUS;PATHE CINEMAS;FNAC SPECTACLES;LOTTO BAYERN;CINESA;WINAMAX;LA FRANCAISE DES JEUX"
    )
    + _rows("IN", "BOOKMYSHOW;HOTSTAR;JIOCINEMA;SONYLIV;ZEE5;PVR CINEMAS;INOX LEISURE;DREAM11;MPL GAMES"),
    "FOOD_AND_DRINK": _rows(
        "*",
        "STARBUCKS;MCDONALDS;KFC;BURGER KING;SUBWAY;DOMINOS PIZZA;PIZZA HUT;COSTA COFFEE;UBER EATS;DUNKIN;TACO BELL;PAPA JOHNS;NANDOS;FIVE GUYS;LIDL;ALDI;CARREFOUR;SPAR;TIM HORTONS;WENDYS",
    )
    + _rows(
        "US",
        "CHIPOTLE;CHICK-FIL-A;PANERA BREAD;DOORDASH;GRUBHUB;INSTACART;WHOLE FOODS MARKET;TRADER JOE S;KROGER;SAFEWAY;PUBLIX;WEGMANS;H-E-B;SHAKE SHACK;IN-N-OUT BURGER;PANDA EXPRESS;SWEETGREEN;POPEYES;OLIVE GARDEN;APPLEBEES;DUTCH BROS;JAMBA JUICE;FOOD LION;ALBERTSONS;SPROUTS FARMERS MKT",
    )
    + _rows(
        "UK",
        "TESCO STORES;SAINSBURYS;ASDA STORES;MORRISONS;WAITROSE;CO-OP FOOD;ICELAND FOODS;GREGGS;PRET A MANGER;DELIVEROO;JUST EAT;WAGAMAMA;LEON;ITSU;M&S SIMPLY FOOD;WETHERSPOON;CAFFE NERO",
    )
    + _rows(
        "NG",
        "CHICKEN REPUBLIC;SHOPRITE;MR BIGGS;TANTALIZERS;KILIMANJARO;SWEET SENSATION;COLD STONE CREAMERY;CHOWDECK;GLOVO;SPAR NIGERIA;DEBONAIRS PIZZA;BUKKA HUT;ORIGINAL BAKERY",
    )
    + _rows(
        "EU",
        "REWE;EDEKA;NETTO;MERCADONA;ALBERT HEIJN;JUMBO SUPERMARKT;AUCHAN;LECLERC;INTERMARCHE;MONOPRIX;CONAD;ESSELUNGA;LIEFERANDO;THUISBEZORGD;WOLT;DIA SUPERMERCADOS;PAUL BOULANGERIE;DM BAECKEREI",
    )
    + _rows(
        "IN",
        "SWIGGY;ZOMATO;BIGBASKET;BLINKIT;ZEPTO;DMART;HALDIRAMS;CAFE COFFEE DAY;CHAAYOS;BARBEQUE NATION;RELIANCE FRESH;MORE SUPERMARKET;NATURES BASKET;BIKANERVALA;SARAVANA BHAVAN",
    ),
    "GENERAL_MERCHANDISE": _rows(
        "*",
        "AMZN MKTP;AMAZON.COM;AMAZON;EBAY;WALMART;IKEA;ZARA;H&M;APPLE STORE;NIKE;ADIDAS;UNIQLO;SHEIN;TEMU;ALIEXPRESS;DECATHLON;SAMSUNG STORE;LEGO STORE;SEPHORA",
    )
    + _rows(
        "US",
        "TARGET;COSTCO WHSL;BEST BUY;WAL-MART SUPERCENTER;DOLLAR TREE;DOLLAR GENERAL;FAMILY DOLLAR;MACYS;NORDSTROM;KOHLS;TJ MAXX;MARSHALLS;ROSS STORES;OLD NAVY;GAP;BARNES & NOBLE;ETSY;WAYFAIR;GAMESTOP;DICKS SPORTING GOODS;BJS WHOLESALE;SAMS CLUB;FIVE BELOW;BURLINGTON;JCPENNEY",
    )
    + _rows(
        "UK",
        "ARGOS;JOHN LEWIS;MARKS & SPENCER;PRIMARK;NEXT RETAIL;CURRYS;BOOTS RETAIL;TK MAXX;WH SMITH;WATERSTONES;SPORTS DIRECT;JD SPORTS;POUNDLAND;B&M BARGAINS;THE RANGE;ASOS.COM;VERY.CO.UK;HOME BARGAINS;SUPERDRUG RETAIL",
    )
    + _rows(
        "NG", "JUMIA;KONGA;SLOT SYSTEMS;GAME STORES;PRINCE EBEANO;JUSTRITE;ROBAN STORES;HUBMART;POINTEK;3CHUB"
    )
    + _rows(
        "EU",
        "MEDIAMARKT;SATURN;FNAC;ZALANDO;OTTO;EL CORTE INGLES;GALERIES LAFAYETTE;PRIMARK;KIABI;ACTION;TEDI;KIK TEXTILIEN;BOL.COM;COOLBLUE;DARTY;BOULANGER;MANOR;PEEK & CLOPPENBURG",
    )
    + _rows(
        "IN",
        "FLIPKART;MYNTRA;MEESHO;NYKAA;AJIO;CROMA;RELIANCE DIGITAL;RELIANCE TRENDS;LIFESTYLE STORES;SHOPPERS STOP;WESTSIDE;PANTALOONS;TATACLIQ;VIJAY SALES;FIRSTCRY",
    ),
    "HOME_IMPROVEMENT": _rows("*", "IKEA;LEROY MERLIN;BOSCH SERVICE")
    + _rows(
        "US",
        "HOME DEPOT;LOWES;MENARDS;ACE HARDWARE;TRUE VALUE;HARBOR FREIGHT;SHERWIN-WILLIAMS;BED BATH & BEYOND;ASHLEY FURNITURE;ROOMS TO GO;POTTERY BARN;CRATE & BARREL;TERMINIX;ORKIN PEST;ANGI SERVICES;THUMBTACK;LUMBER LIQUIDATORS;FLOOR & DECOR;RAYMOUR & FLANIGAN;ROTO-ROOTER",
    )
    + _rows(
        "UK",
        "B&Q;WICKES;SCREWFIX;TOOLSTATION;HOMEBASE;DUNELM;DFS FURNITURE;FARROW & BALL;TOPPS TILES;CHECKATRADE;WILKO;OAK FURNITURELAND;MAGNET KITCHENS;HOWDENS",
    )
    + _rows(
        "NG", "DUFIL FURNITURE;HOGL TILES;VITAFOAM;MOUKA FOAM;BUILDERS MART;DORMAN LONG HARDWARE;HOMEMART"
    )
    + _rows(
        "EU",
        "OBI;BAUHAUS;HORNBACH;CASTORAMA;BRICO DEPOT;PRAXIS;GAMMA BOUWMARKT;BRICOMARCHE;CONFORAMA;MAISONS DU MONDE;XXXLUTZ;POCO EINRICHTUNG",
    )
    + _rows(
        "IN",
        "PEPPERFRY;URBAN LADDER;HOMETOWN;ASIAN PAINTS;BERGER PAINTS;DURIAN FURNITURE;URBAN COMPANY REPAIRS;GODREJ INTERIO;NILKAMAL;SLEEPWELL",
    ),
    "MEDICAL": _rows("*", "BOOTS PHARMACY;SPECSAVERS")
    + _rows(
        "US",
        "CVS/PHARMACY;WALGREENS;RITE AID;QUEST DIAGNOSTICS;LABCORP;KAISER PERMANENTE;ASPEN DENTAL;PEARLE VISION;BANFIELD PET HOSPITAL;VCA ANIMAL HOSPITAL;MINUTECLINIC;ONE MEDICAL;TELADOC;GOODRX;LENSCRAFTERS;WARBY PARKER;MAYO CLINIC;CHEWY PHARMACY",
    )
    + _rows(
        "UK",
        "LLOYDS PHARMACY;SUPERDRUG PHARMACY;VISION EXPRESS;MYDENTIST;BUPA DENTAL;NUFFIELD HEALTH;VETS4PETS;PETS AT HOME VET;WELL PHARMACY;ROWLANDS PHARMACY;NHS PRESCRIPTION",
    )
    + _rows(
        "NG",
        "MEDPLUS PHARMACY;HEALTHPLUS PHARMACY;ALPHA PHARMACY;REDDINGTON HOSPITAL;LAGOON HOSPITAL;EKO HOSPITAL;SYNLAB NIGERIA;CLINA-LANCET LABS;NORDICA FERTILITY;EVERCARE HOSPITAL",
    )
    + _rows(
        "EU",
        "APOTHEKE;DOCMORRIS;SHOP APOTHEKE;PHARMACIE;FARMACIA;FIELMANN;APOLLO OPTIK;KRYS OPTICIEN;AFFLELOU;CLINIQUE VETERINAIRE",
    )
    + _rows(
        "IN",
        "APOLLO PHARMACY;MEDPLUS;NETMEDS;PHARMEASY;1MG TATA;DR LAL PATHLABS;THYROCARE;METROPOLIS LABS;FORTIS HOSPITAL;MAX HEALTHCARE;MANIPAL HOSPITALS;LENSKART;PRACTO;APOLLO HOSPITALS",
    ),
    "PERSONAL_CARE": _rows("*", "ANYTIME FITNESS;GOLDS GYM;SNAP FITNESS;THE BODY SHOP;LUSH")
    + _rows(
        "US",
        "PLANET FITNESS;LA FITNESS;EQUINOX;24 HOUR FITNESS;CRUNCH FITNESS;ORANGETHEORY;SUPERCUTS;GREAT CLIPS;SPORT CLIPS;FANTASTIC SAMS;ULTA BEAUTY;EUROPEAN WAX CENTER;MASSAGE ENVY;SALLY BEAUTY;CLASSPASS;PELOTON;HAND & STONE;DRYBAR",
    )
    + _rows(
        "UK",
        "PUREGYM;THE GYM GROUP;DAVID LLOYD;VIRGIN ACTIVE;BANNATYNE;TONI & GUY;RUSH HAIR;HEADMASTERS;REGIS SALON;BENEFIT BROW BAR;JOHNSONS CLEANERS;TIMPSON DRY CLEANING;FITNESS FIRST",
    )
    + _rows(
        "NG",
        "I-FITNESS;BODY LINE GYM;ECLAT SPA;TRUEFITT & HILL;OH MY NAILS;THE LAUNDRY PEOPLE;PURE WATER SPA;ZAZA BEAUTY",
    )
    + _rows(
        "EU",
        "MCFIT;FITX;BASIC-FIT;CLEVER FIT;KLIPP FRISEUR;DOUGLAS PARFUMERIE;MARIONNAUD;YVES ROCHER;NOCIBE;JEAN LOUIS DAVID;DESSANGE",
    )
    + _rows(
        "IN",
        "CULT.FIT;GOLDS GYM INDIA;NATURALS SALON;LAKME SALON;JAWED HABIB;VLCC;ENRICH SALON;KAYA CLINIC;URBAN COMPANY SALON;TONI&GUY INDIA;GREEN TRENDS;UCLEAN LAUNDRY",
    ),
    "GENERAL_SERVICES": _rows(
        "*",
        "DHL EXPRESS;FEDEX;UPS STORE;COURSERA;UDEMY;DUOLINGO;LINKEDIN PREMIUM;GOOGLE STORAGE;ICLOUD STORAGE;DROPBOX;MICROSOFT 365;ADOBE;AXA INSURANCE;ALLIANZ;ZURICH INSURANCE;PWC;DELOITTE",
    )
    + _rows(
        "US",
        "USPS;GEICO;STATE FARM;PROGRESSIVE INS;ALLSTATE;LIBERTY MUTUAL;JIFFY LUBE;FIRESTONE COMPLETE AUTO;PEP BOYS;MIDAS;VALVOLINE;PUBLIC STORAGE;EXTRA SPACE STORAGE;CUBESMART;H&R BLOCK;INTUIT TURBOTAX;LEGALZOOM;KINDERCARE;BRIGHT HORIZONS;CARE.COM;SAFELITE;MEINEKE;STAPLES PRINT;DOCUSIGN",
    )
    + _rows(
        "UK",
        "ROYAL MAIL;POST OFFICE;EVRI;PARCELFORCE;DIRECT LINE;AVIVA;ADMIRAL INSURANCE;HASTINGS DIRECT;AA INSURANCE;RAC MOTORING;KWIK FIT;HALFORDS AUTOCENTRE;BIG YELLOW STORAGE;SAFESTORE;OPEN UNIVERSITY;BRIGHT HORIZONS UK;CHURCHILL INSURANCE;LV INSURANCE;MOT TEST CENTRE",
    )
    + _rows(
        "NG",
        "GIG LOGISTICS;NIPOST;LEADWAY ASSURANCE;AXA MANSARD;AIICO INSURANCE;CUSTODIAN INSURANCE;RELIANCE HMO;HYGEIA HMO;WAEC;JAMB;KWIK DELIVERY;SENDBOX;ULESSON;CARGOPLUS",
    )
    + _rows(
        "EU",
        "DEUTSCHE POST;DHL PAKET;HERMES;LA POSTE;CORREOS;POSTNL;BPOST;COLISSIMO;HUK-COBURG;ALLIANZ VERSICHERUNG;MAIF;MAPFRE;GENERALI;ATU AUTO-TEILE-UNIONE;NORAUTO;FEU VERT;SPEEDY",
    )
    + _rows(
        "IN",
        "INDIA POST;BLUE DART;DELHIVERY;DTDC;LIC OF INDIA;HDFC ERGO;ICICI LOMBARD;STAR HEALTH;POLICYBAZAAR;BYJUS;UNACADEMY;VEDANTU;PHYSICS WALLAH;URBAN COMPANY;GOMECHANIC;CARS24 SERVICE",
    ),
    "TRANSPORTATION": _rows("*", "UBER;UBER TRIP;SHELL;BP;ESSO;TOTAL ENERGIES;BOLT.EU;LIME RIDE;FREENOW")
    + _rows(
        "US",
        "LYFT;CHEVRON;EXXONMOBIL;MOBIL;SUNOCO;VALERO;CIRCLE K;SPEEDWAY;MARATHON PETRO;WAWA;SHEETZ;QUIKTRIP;7-ELEVEN FUEL;E-ZPASS;SUNPASS;FASTRAK;MTA NYC TRANSIT;BART CLIPPER;WMATA;SP+ PARKING;PARKMOBILE;SPOTHERO;LAZ PARKING;CITGO;ARCO;BIRD RIDES;AMTRAK METRO;MARTA;CTA VENTRA",
    )
    + _rows(
        "UK",
        "TFL TRAVEL CH;TFL.GOV.UK/CP;TRAINLINE;NATIONAL RAIL;GREATER ANGLIA;AVANTI WEST COAST;LNER;STAGECOACH BUS;ARRIVA;FIRST BUS;RINGGO;PAYBYPHONE;NCP CAR PARK;DART CHARGE;TEXACO;JET PETROL;GULF FUEL;ADDISON LEE",
    )
    + _rows(
        "NG",
        "TOTAL NIGERIA;MRS OIL;CONOIL;ARDOVA;NNPC RETAIL;OANDO;MOBIL NIGERIA;LCC TOLL;LEKKI TOLL GATE;BRT LAGOS;LAMATA COWRY CARD;GIGM MOTORS;GUO TRANSPORT;ABC TRANSPORT;OPAY RIDE",
    )
    + _rows(
        "EU",
        "ARAL;JET TANKSTELLE;AGIP;REPSOL;CEPSA;Q8;AVIA;DB VERTRIEB;SNCF CONNECT;RENFE;RATP;BVG;MVG MUENCHEN;NS REIZIGERS;TRENITALIA;ATM MILANO;VINCI AUTOROUTES;SANEF;APCOA PARKING;EASYPARK;FLIXBUS;TIER MOBILITY",
    )
    + _rows(
        "IN",
        "OLA CABS;RAPIDO;INDIAN OIL;BHARAT PETROLEUM;HINDUSTAN PETROLEUM;HPCL;IOCL;NAYARA ENERGY;FASTAG;PAYTM FASTAG;DELHI METRO;MUMBAI METRO;BMTC;IRCTC UTS;NAMMA YATRI;BLUSMART",
    ),
    "TRAVEL": _rows(
        "*",
        "BOOKING.COM;AIRBNB;EXPEDIA;HOTELS.COM;MARRIOTT;HILTON;HYATT;IHG HOTEL;HOLIDAY INN;BEST WESTERN;EMIRATES;QATAR AIRWAYS;LUFTHANSA;KLM;AIR FRANCE;BRITISH AIRWAYS;TURKISH AIRLINES;HERTZ;AVIS;EUROPCAR;SIXT;ENTERPRISE RENT-A-CAR;TRIP.COM;AGODA;VRBO;KAYAK;SKYSCANNER;TRIPADVISOR",
    )
    + _rows(
        "US",
        "DELTA AIR LINES;UNITED AIRLINES;AMERICAN AIRLINES;SOUTHWEST AIRLINES;JETBLUE;ALASKA AIRLINES;SPIRIT AIRLINES;FRONTIER AIRLINES;BUDGET RENT A CAR;NATIONAL CAR RENTAL;PRICELINE;HAMPTON INN;MOTEL 6;LA QUINTA;CARNIVAL CRUISE;ROYAL CARIBBEAN",
    )
    + _rows(
        "UK",
        "EASYJET;RYANAIR;JET2.COM;TUI UK;PREMIER INN;TRAVELODGE;VIRGIN ATLANTIC;LOVEHOLIDAYS;ON THE BEACH;EUROSTAR;LASTMINUTE.COM",
    )
    + _rows(
        "NG",
        "AIR PEACE;ARIK AIR;IBOM AIR;DANA AIR;UNITED NIGERIA AIRLINES;WAKANOW;TRAVELSTART;EKO HOTELS;TRANSCORP HILTON;RADISSON BLU LAGOS;SHERATON LAGOS",
    )
    + _rows(
        "EU",
        "VUELING;IBERIA;TRANSAVIA;WIZZ AIR;EUROWINGS;ITA AIRWAYS;SAS;ACCOR HOTELS;IBIS;NOVOTEL;NH HOTELES;MELIA HOTELS;B&B HOTELS;OPODO;EDREAMS;HOLIDAYCHECK",
    )
    + _rows(
        "IN",
        "INDIGO;AIR INDIA;SPICEJET;AKASA AIR;VISTARA;MAKEMYTRIP;GOIBIBO;YATRA;CLEARTRIP;OYO ROOMS;TAJ HOTELS;ITC HOTELS;IXIGO;ZOOMCAR;TREEBO",
    ),
    "RENT_AND_UTILITIES": _rows("*", "VODAFONE;ORANGE")
    + _rows(
        "US",
        "CON EDISON;PG&E;DUKE ENERGY;SOUTHERN CALIFORNIA EDISON;DOMINION ENERGY;XCEL ENERGY;NATIONAL GRID US;COMCAST XFINITY;SPECTRUM;VERIZON WIRELESS;AT&T;T-MOBILE;COX COMMUNICATIONS;DIRECTV;DISH NETWORK;AMERICAN WATER;CENTERPOINT ENERGY;GREYSTAR;AVALONBAY;EQUITY RESIDENTIAL;ZILLOW RENT;APARTMENTS.COM;MINT MOBILE;FRONTIER COMM;ATMOS ENERGY",
    )
    + _rows(
        "UK",
        "BRITISH GAS;OCTOPUS ENERGY;EDF ENERGY;E.ON NEXT;OVO ENERGY;SCOTTISH POWER;THAMES WATER;SEVERN TRENT;ANGLIAN WATER;UNITED UTILITIES;BT GROUP;SKY DIGITAL;VIRGIN MEDIA;EE LIMITED;O2 UK;THREE UK;GIFFGAFF;TV LICENCE;PLUSNET;FOXTONS RENT;OPENRENT",
    )
    + _rows(
        "NG",
        "IKEDC;EKEDC;AEDC;PHED;IBEDC;MTN NIGERIA;AIRTEL NIGERIA;GLO MOBILE;9MOBILE;DSTV;GOTV;STARTIMES;SPECTRANET;SMILE COMMUNICATIONS;LAGOS WATER CORP;SWIFT NETWORKS",
    )
    + _rows(
        "EU",
        "ENGIE;EDF;E.ON;VATTENFALL;IBERDROLA;ENDESA;ENEL ENERGIA;TELEKOM DEUTSCHLAND;VODAFONE GMBH;O2 TELEFONICA;SFR;BOUYGUES TELECOM;FREE MOBILE;MOVISTAR;TIM ITALIA;STADTWERKE;VEOLIA EAU;KPN;ZIGGO",
    )
    + _rows(
        "IN",
        "JIO;AIRTEL;VI VODAFONE IDEA;BSNL;TATA POWER;BESCOM;MSEDCL;ADANI ELECTRICITY;BSES RAJDHANI;TATA PLAY;DISH TV;ACT FIBERNET;HATHWAY;MAHANAGAR GAS;INDRAPRASTHA GAS;NOBROKER RENT;HOUSING.COM RENT;DELHI JAL BOARD",
    ),
}

#: Words that make a composed local business recognisably of one category.
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "ENTERTAINMENT": (
        "CINEMA",
        "ARCADE",
        "BOWLING",
        "KARAOKE",
        "LOUNGE GAMES",
        "BINGO HALL",
        "COMEDY CLUB",
        "LASER TAG",
        "ESCAPE ROOM",
        "THEATRE",
        "CASINO",
        "BETTING SHOP",
        "MINI GOLF",
        "GAMING",
        "MUSIC HALL",
        "STADIUM",
        "EVENT CENTRE",
        "NIGHTCLUB",
    ),
    "FOOD_AND_DRINK": (
        "TACOS",
        "PIZZA",
        "PIZZERIA",
        "DINER",
        "GRILL",
        "CAFE",
        "COFFEE",
        "BAKERY",
        "KITCHEN",
        "BISTRO",
        "SUSHI",
        "BBQ",
        "BURGERS",
        "DELI",
        "RESTAURANT",
        "SUPERMARKET",
        "GROCERY",
        "MINI MART",
        "FOOD MART",
        "PUB",
        "BAR",
        "BREWERY",
        "NOODLE HOUSE",
        "CHICKEN",
        "SHAWARMA",
        "SUYA SPOT",
        "BUKKA",
        "DHABA",
        "SWEETS",
        "CHOP HOUSE",
        "ICE CREAM",
        "JUICE BAR",
        "TAQUERIA",
        "FISH & CHIPS",
        "KEBAB",
        "TRATTORIA",
        "BOULANGERIE",
        "MARKET",
        "FRESH FOODS",
        "CATERING",
    ),
    "GENERAL_MERCHANDISE": (
        "BOUTIQUE",
        "FASHION",
        "CLOTHING",
        "APPAREL",
        "ELECTRONICS",
        "MOBILE STORE",
        "BOOKSTORE",
        "BOOKS",
        "GIFT SHOP",
        "TOY STORE",
        "SHOES",
        "DEPARTMENT STORE",
        "DISCOUNT STORE",
        "VARIETY STORE",
        "GADGETS",
        "COMPUTERS",
        "JEWELLERS",
        "SPORTS STORE",
        "TEXTILES",
        "MEGA STORE",
        "DOLLAR STORE",
        "THRIFT STORE",
        "OUTLET",
        "EMPORIUM",
    ),
    "HOME_IMPROVEMENT": (
        "HARDWARE",
        "FURNITURE",
        "PLUMBING",
        "ROOFING",
        "PAINTS",
        "LUMBER",
        "FLOORING",
        "TILES",
        "PEST CONTROL",
        "HOME REPAIR",
        "HANDYMAN",
        "ELECTRICAL SUPPLY",
        "GARDEN CENTER",
        "NURSERY",
        "KITCHENS",
        "BUILDERS",
        "CARPETS",
        "LOCKSMITH",
        "HVAC",
        "GLASS & GLAZING",
        "HOME DECOR",
        "MATTRESS",
    ),
    "MEDICAL": (
        "PHARMACY",
        "CHEMIST",
        "DRUG STORE",
        "MEDICAL CENTER",
        "CLINIC",
        "DENTAL",
        "DENTIST",
        "ORTHODONTICS",
        "HOSPITAL",
        "DIAGNOSTICS",
        "LABS",
        "OPTICAL",
        "OPTOMETRY",
        "EYE CARE",
        "VETERINARY",
        "ANIMAL HOSPITAL",
        "PEDIATRICS",
        "PHYSIOTHERAPY",
        "CHIROPRACTIC",
        "DERMATOLOGY",
        "HEALTH CENTRE",
        "URGENT CARE",
        "MEDICALS",
    ),
    "PERSONAL_CARE": (
        "NAIL SALON",
        "NAILS",
        "HAIR SALON",
        "BARBER SHOP",
        "BARBERS",
        "BEAUTY",
        "SPA",
        "GYM",
        "FITNESS",
        "YOGA",
        "PILATES",
        "LAUNDRY",
        "DRY CLEANERS",
        "LAUNDROMAT",
        "TANNING",
        "WAXING",
        "MASSAGE",
        "BEAUTY SUPPLY",
        "COSMETICS",
        "CROSSFIT",
        "MAKEOVER STUDIO",
        "HAIR STUDIO",
    ),
    "GENERAL_SERVICES": (
        "INSURANCE",
        "INSURANCE AGENCY",
        "AUTO REPAIR",
        "AUTO SERVICE",
        "TYRES",
        "CAR WASH",
        "MECHANIC",
        "BODY SHOP",
        "STORAGE",
        "SELF STORAGE",
        "COURIER",
        "SHIPPING",
        "LOGISTICS",
        "TUTORS",
        "ACADEMY",
        "SCHOOL FEES",
        "DAYCARE",
        "CHILDCARE",
        "LAW FIRM",
        "SOLICITORS",
        "ACCOUNTING",
        "TAX SERVICES",
        "CPA",
        "PRINTING",
        "CONSULTING",
        "MONTESSORI",
        "LEARNING CENTER",
    ),
    "TRANSPORTATION": (
        "FUEL",
        "GAS STATION",
        "PETROL",
        "FILLING STATION",
        "SERVICE STATION",
        "PARKING",
        "CAR PARK",
        "TAXI",
        "CABS",
        "TRANSIT",
        "BUS LINES",
        "TOLL",
        "SHUTTLE",
        "RIDES",
        "EV CHARGING",
        "OIL & GAS",
        "MOTOR PARK",
    ),
    "TRAVEL": (
        "HOTEL",
        "INN",
        "MOTEL",
        "SUITES",
        "RESORT",
        "LODGE",
        "GUEST HOUSE",
        "HOSTEL",
        "TRAVEL AGENCY",
        "TRAVELS",
        "TOURS",
        "CAR RENTAL",
        "CAR HIRE",
        "AIRWAYS",
        "AIR",
        "VACATION RENTALS",
        "B&B",
        "HOLIDAYS",
    ),
    "RENT_AND_UTILITIES": (
        "APARTMENTS",
        "PROPERTY MGMT",
        "PROPERTIES",
        "RENTALS",
        "ESTATES",
        "HOUSING",
        "LETTINGS",
        "REALTY",
        "WATER AUTHORITY",
        "POWER",
        "ELECTRIC",
        "ENERGY",
        "GAS CO",
        "TELECOM",
        "BROADBAND",
        "CABLE",
        "INTERNET",
        "WIRELESS",
        "UTILITIES",
    ),
}

OWNER_NAMES: tuple[str, ...] = tuple(
    [
        "JOE",
        "MARIA",
        "TONY",
        "ADE",
        "CHIDI",
        "EMEKA",
        "TUNDE",
        "FEMI",
        "RAVI",
        "PRIYA",
        "ANIL",
        "SUNITA",
        "HANS",
        "KLAUS",
        "PIERRE",
        "MARIE",
        "LUIGI",
        "SOFIA",
        "CARLOS",
        "ANA",
        "MIKE",
        "SARAH",
        "DAVE",
        "LINDA",
        "KEMI",
        "BOLA",
        "NGOZI",
        "AMAKA",
        "ARJUN",
        "DEEPA",
        "OMAR",
        "FATIMA",
        "ALI",
        "CHEN",
        "WEI",
        "KIM",
        "PATEL",
        "SHARMA",
        "GUPTA",
        "SINGH",
        "OKAFOR",
        "ADEYEMI",
        "NNAMDI",
        "MUELLER",
        "SCHMIDT",
        "DUBOIS",
        "ROSSI",
        "GARCIA",
        "LOPEZ",
        "SMITH",
        "JONES",
        "BROWN",
        "WILLIAMS",
        "TAYLOR",
        "MURPHY",
        "OBRIEN",
        "NGUYEN",
        "LEE",
        "RAJ",
        "LAKSHMI",
        "GOPAL",
        "BISI",
        "YEMI",
        "SEUN",
        "FRANK",
        "HELEN",
        "ROSA",
        "ENZO",
    ]
)
ADJECTIVES: tuple[str, ...] = tuple(
    [
        "GOLDEN",
        "ROYAL",
        "LUXE",
        "PRIME",
        "FRESH",
        "HAPPY",
        "BLUE",
        "GREEN",
        "RED",
        "SILVER",
        "URBAN",
        "CLASSIC",
        "MODERN",
        "ELITE",
        "STAR",
        "SUNRISE",
        "SUNSET",
        "OCEAN",
        "EAGLE",
        "LION",
        "CROWN",
        "DIAMOND",
        "EMERALD",
        "UNITED",
        "GLOBAL",
        "SUPREME",
        "DIVINE",
        "GRACE",
        "GLORY",
        "PEARL",
        "MAPLE",
        "OAK",
        "CEDAR",
        "PINE",
        "RIVER",
        "LAKE",
        "MOUNTAIN",
        "VALLEY",
        "METRO",
        "CITY",
        "TOWN",
        "VILLAGE",
        "LITTLE",
        "BIG",
        "BEST",
        "FIRST",
        "NEW",
        "OLD",
        "TOP",
        "ZEN",
        "VIVA",
        "BELLA",
        "NOVA",
        "ALPHA",
        "OMEGA",
        "APEX",
        "SMART",
        "QUICK",
        "EASY",
        "TRUSTY",
        "FAMILY",
        "HOMELY",
    ]
)
CITY_WORDS: tuple[str, ...] = tuple(
    [
        "BROOKLYN",
        "AUSTIN",
        "DENVER",
        "MIAMI",
        "BOSTON",
        "CHELSEA",
        "CAMDEN",
        "BRIXTON",
        "LEEDS",
        "MANCHESTER",
        "IKEJA",
        "LEKKI",
        "YABA",
        "SURULERE",
        "ABUJA",
        "WUSE",
        "IBADAN",
        "KANO",
        "BERLIN",
        "MUNICH",
        "PARIS",
        "LYON",
        "MADRID",
        "BARCELONA",
        "MILANO",
        "AMSTERDAM",
        "MUMBAI",
        "ANDHERI",
        "BANDRA",
        "DELHI",
        "KAROL",
        "BAGH",
        "BANGALORE",
        "KORAMANGALA",
        "CHENNAI",
        "PUNE",
        "HYDERABAD",
        "KOLKATA",
        "MAIN",
        "STREET",
        "HIGH",
        "STREET",
        "PARKSIDE",
        "LAKESIDE",
        "RIVERSIDE",
        "HILLTOP",
        "EASTSIDE",
        "WESTEND",
        "DOWNTOWN",
        "UPTOWN",
    ]
)

PERSON_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "US": (
        tuple(
            [
                "JOHN",
                "MICHAEL",
                "DAVID",
                "JAMES",
                "ROBERT",
                "MARY",
                "JENNIFER",
                "LINDA",
                "SARAH",
                "JESSICA",
                "ASHLEY",
                "EMILY",
                "DANIEL",
                "MATTHEW",
                "CHRIS",
                "BRIAN",
                "KEVIN",
                "JOSE",
                "LUIS",
                "MARIA",
                "KAREN",
                "NANCY",
                "LISA",
                "AMANDA",
                "TYLER",
                "BRANDON",
            ]
        ),
        tuple(
            [
                "SMITH",
                "JOHNSON",
                "WILLIAMS",
                "BROWN",
                "JONES",
                "GARCIA",
                "MILLER",
                "DAVIS",
                "RODRIGUEZ",
                "MARTINEZ",
                "HERNANDEZ",
                "LOPEZ",
                "WILSON",
                "ANDERSON",
                "THOMAS",
                "TAYLOR",
                "MOORE",
                "JACKSON",
                "MARTIN",
                "LEE",
                "THOMPSON",
                "WHITE",
                "HARRIS",
                "CLARK",
                "LEWIS",
            ]
        ),
    ),
    "UK": (
        tuple(
            [
                "OLIVER",
                "GEORGE",
                "HARRY",
                "JACK",
                "CHARLIE",
                "THOMAS",
                "AMELIA",
                "OLIVIA",
                "ISLA",
                "EMILY",
                "POPPY",
                "SOPHIE",
                "JAMES",
                "WILLIAM",
                "HANNAH",
                "LUCY",
                "CHLOE",
                "MEGAN",
                "CALLUM",
                "RHYS",
                "EWAN",
                "FIONA",
                "NIAMH",
                "SEAN",
            ]
        ),
        tuple(
            [
                "SMITH",
                "JONES",
                "TAYLOR",
                "BROWN",
                "WILLIAMS",
                "WILSON",
                "JOHNSON",
                "DAVIES",
                "ROBINSON",
                "WRIGHT",
                "THOMPSON",
                "EVANS",
                "WALKER",
                "WHITE",
                "ROBERTS",
                "GREEN",
                "HALL",
                "WOOD",
                "JACKSON",
                "CLARKE",
                "HUGHES",
                "EDWARDS",
                "MORGAN",
                "PATEL",
                "KHAN",
            ]
        ),
    ),
    "NG": (
        tuple(
            [
                "CHINEDU",
                "EMEKA",
                "OLUWASEUN",
                "ADEBAYO",
                "TUNDE",
                "FEMI",
                "IFEOMA",
                "NGOZI",
                "CHIOMA",
                "AMAKA",
                "BLESSING",
                "FUNMILAYO",
                "AISHA",
                "IBRAHIM",
                "MUSA",
                "YUSUF",
                "KEHINDE",
                "TAIWO",
                "OLUMIDE",
                "SEGUN",
                "BOLANLE",
                "ABIODUN",
                "UCHE",
                "OBINNA",
            ]
        ),
        tuple(
            [
                "OKAFOR",
                "ADEYEMI",
                "OKONKWO",
                "BELLO",
                "ABUBAKAR",
                "OGUNLEYE",
                "NWOSU",
                "EZE",
                "OLAWALE",
                "ADEBOYE",
                "IBRAHIM",
                "MOHAMMED",
                "OYELARAN",
                "AKINTOLA",
                "CHUKWU",
                "OKORO",
                "BALOGUN",
                "ADEWALE",
                "OJO",
                "OLADIPO",
                "NWACHUKWU",
                "EKWUEME",
                "DANJUMA",
            ]
        ),
    ),
    "EU": (
        tuple(
            [
                "LUKAS",
                "MAXIMILIAN",
                "ANNA",
                "LENA",
                "SOPHIE",
                "PIERRE",
                "JEAN",
                "MARIE",
                "CAMILLE",
                "LOUIS",
                "HUGO",
                "MARCO",
                "GIULIA",
                "FRANCESCO",
                "ALESSANDRO",
                "LUCIA",
                "PABLO",
                "JAVIER",
                "CARMEN",
                "SERGIO",
                "DAAN",
                "SEM",
                "EMMA",
                "JULIA",
                "FINN",
            ]
        ),
        tuple(
            [
                "MUELLER",
                "SCHMIDT",
                "SCHNEIDER",
                "FISCHER",
                "WEBER",
                "MARTIN",
                "BERNARD",
                "DUBOIS",
                "THOMAS",
                "ROBERT",
                "ROSSI",
                "RUSSO",
                "FERRARI",
                "ESPOSITO",
                "BIANCHI",
                "GARCIA",
                "FERNANDEZ",
                "GONZALEZ",
                "RODRIGUEZ",
                "SANCHEZ",
                "DE",
                "JONG",
                "JANSEN",
                "DE",
                "VRIES",
                "VAN",
                "DIJK",
                "BAKKER",
            ]
        ),
    ),
    "IN": (
        tuple(
            [
                "RAHUL",
                "AMIT",
                "RAJESH",
                "SURESH",
                "VIKRAM",
                "ARJUN",
                "ROHAN",
                "PRIYA",
                "ANJALI",
                "DEEPIKA",
                "SNEHA",
                "POOJA",
                "NEHA",
                "KAVYA",
                "ADITYA",
                "KARAN",
                "SANJAY",
                "MANISH",
                "RAVI",
                "LAKSHMI",
                "SUNITA",
                "MEENA",
                "VIJAY",
                "ANIL",
            ]
        ),
        tuple(
            [
                "SHARMA",
                "VERMA",
                "GUPTA",
                "SINGH",
                "KUMAR",
                "PATEL",
                "REDDY",
                "NAIR",
                "IYER",
                "RAO",
                "MEHTA",
                "JOSHI",
                "DESAI",
                "CHOPRA",
                "KAPOOR",
                "MALHOTRA",
                "BANERJEE",
                "CHATTERJEE",
                "DAS",
                "MUKHERJEE",
                "PILLAI",
                "MENON",
                "AGARWAL",
                "JAIN",
            ]
        ),
    ),
}

#: Non-merchant counterparties per label: kind -> rows.
COUNTERPARTIES: dict[str, dict[str, Rows]] = {
    "INCOME": {
        "employer": _rows(
            "*",
            "ACME CORP;GLOBEX INC;INITECH LLC;UMBRELLA HOLDINGS;STARK INDUSTRIES;WAYNE ENTERPRISES;HOOLI INC;VANDELAY INDUSTRIES;SOYLENT CORP;TYRELL LTD;MASSIVE DYNAMIC;CYBERDYNE SYSTEMS;PIED PIPER;WONKA INDUSTRIES;NORTHWIND TRADERS;CONTOSO LTD;FABRIKAM;LITWARE;ADVENTURE WORKS;BLUE YONDER",
        )
        + _rows(
            "US",
            "WALMART ASSOC;AMAZON.COM SVCS;TARGET CORP;ADP PAYROLL;PAYCHEX;GUSTO PAY;INTUIT PAYROLL;JPMORGAN CHASE;UNITEDHEALTH;KAISER;STATE OF CA;US ARMY;DFAS;CITY OF AUSTIN;UPS PAYROLL",
        )
        + _rows(
            "UK",
            "NHS TRUST;HMRC;DWP UC;DWP PIP;TESCO PLC;SAINSBURYS PLC;BARCLAYS PLC;UNIVERSITY OF LEEDS;COUNCIL PAYROLL;SAGE PAYROLL;ROYAL MAIL GROUP",
        )
        + _rows(
            "NG",
            "DANGOTE CEMENT;MTN NIGERIA COMM;FIRST BANK PLC;NNPC LTD;FEDERAL GOVT;LAGOS STATE GOVT;ACCESS BANK PLC;FLOUR MILLS;NESTLE NIGERIA;INTERSWITCH;ANDELA;PAYSTACK",
        )
        + _rows(
            "EU",
            "SIEMENS AG;SAP SE;BOSCH GMBH;DEUTSCHE BAHN;RENAULT SAS;TOTALENERGIES SE;INDITEX;TELEFONICA;ENEL SPA;PHILIPS;ASML;AGENTUR FUER ARBEIT;CAF ALLOCATIONS;POLE EMPLOI",
        )
        + _rows(
            "IN",
            "TATA CONSULTANCY;INFOSYS LTD;WIPRO LTD;HCL TECHNOLOGIES;RELIANCE INDUSTRIES;HDFC BANK LTD;ICICI BANK LTD;TECH MAHINDRA;LARSEN TOUBRO;EPFO;COGNIZANT;ACCENTURE SOLUTIONS",
        ),
    },
    "TRANSFER_OUT": {
        "broker": _rows("*", "COINBASE;BINANCE;KRAKEN;INTERACTIVE BROKERS;ETORO;REVOLUT;WISE;TRADING 212")
        + _rows(
            "US",
            "ROBINHOOD;FIDELITY;VANGUARD;CHARLES SCHWAB;E*TRADE;WEBULL;ACORNS;STASH;BETTERMENT;WEALTHFRONT;CRYPTO.COM",
        )
        + _rows("UK", "HARGREAVES LANSDOWN;VANGUARD UK;FREETRADE;NUTMEG;MONEYBOX;AJ BELL")
        + _rows("NG", "BAMBOO;RISEVEST;CHAKA;COWRYWISE;PIGGYVEST;TROVE;QUIDAX;LUNO")
        + _rows("EU", "TRADE REPUBLIC;SCALABLE CAPITAL;DEGIRO;BITPANDA;BOURSORAMA")
        + _rows("IN", "ZERODHA;GROWW;UPSTOX;ANGEL ONE;COINDCX;WAZIRX;PAYTM MONEY;KUVERA"),
    },
    "LOAN_PAYMENTS": {
        "lender": _rows(
            "*",
            "AMEX EPAYMENT;AMERICAN EXPRESS;KLARNA;AFTERPAY;PAYPAL CREDIT;CLEARPAY;MASTERCARD PAYMENT;VISA CARD PAYMENT",
        )
        + _rows(
            "US",
            "CHASE CREDIT CRD;CAPITAL ONE;DISCOVER E-PAYMENT;CITI CARD ONLINE;BANK OF AMERICA CC;WELLS FARGO CARD;SYNCHRONY BANK;BARCLAYCARD US;SALLIE MAE;NAVIENT;NELNET;MOHELA;ROCKET MORTGAGE;MR COOPER;WELLS FARGO HOME MTG;TOYOTA FINANCIAL;HONDA FINANCIAL;ALLY AUTO;AFFIRM;UPSTART;SOFI LOAN;LENDINGCLUB;CARMAX AUTO FINANCE;FORD CREDIT",
        )
        + _rows(
            "UK",
            "BARCLAYCARD;MBNA;HALIFAX CREDIT CARD;NATWEST MORTGAGE;NATIONWIDE MORTGAGE;SANTANDER MORTGAGE;STUDENT LOANS CO;ZOPA LOAN;VANQUIS;AQUA CARD;TESCO BANK CC;BLACK HORSE FINANCE;CAPITAL ONE UK;NEWDAY",
        )
        + _rows(
            "NG",
            "CARBON LOAN;FAIRMONEY;BRANCH INTL;PALMCREDIT;RENMONEY;AELLA CREDIT;LIDYA;PAGE FINANCIALS;QUICKCHECK;CDCARE LOAN",
        )
        + _rows(
            "EU",
            "CETELEM;COFIDIS;SANTANDER CONSUMER;ING HYPOTHEEK;SOFINCO;FINDOMESTIC;AUXMONEY;SMAVA;FLOA BANK",
        )
        + _rows(
            "IN",
            "BAJAJ FINANCE;HDFC LOAN EMI;ICICI HOME LOAN;SBI CARD;HDFC CREDIT CARD;AXIS BANK CC;LIC HOUSING FIN;TATA CAPITAL;KOTAK MAHINDRA PRIME;MUTHOOT FINANCE;HOME CREDIT INDIA;ZESTMONEY;SLICE CARD;KREDITBEE",
        ),
    },
    "BANK_FEES": {
        "fee": _rows(
            "*",
            "MONTHLY MAINTENANCE FEE;SERVICE CHARGE;OVERDRAFT FEE;OVERDRAFT ITEM FEE;NSF FEE;RETURNED ITEM FEE;ATM FEE;NON-NETWORK ATM FEE;FOREIGN TRANSACTION FEE;INTL TXN FEE;WIRE TRANSFER FEE;OUTGOING WIRE FEE;INCOMING WIRE FEE;STOP PAYMENT FEE;PAPER STATEMENT FEE;ACCOUNT FEE;CARD REPLACEMENT FEE;EXCESS WITHDRAWAL FEE;LATE FEE;CASH ADVANCE FEE;ANNUAL CARD FEE;NON-STERLING TRANSACTION FEE;UNARRANGED OVERDRAFT CHARGE;ACCOUNT MAINTENANCE CHARGE;SMS ALERT CHARGES;SMS CHARGES;CARD MAINTENANCE FEE;COT CHARGES;NIP TRANSFER CHARGE;ELECTRONIC MONEY TRANSFER LEVY;STAMP DUTY CHARGE;VAT ON CHARGES;ATM DECLINE CHARGES;MIN BAL CHARGES;DEBIT CARD ANNUAL FEE;GST ON CHARGES;CHEQUE BOOK CHARGES;IMPS CHARGES;KONTOFUEHRUNGSGEBUEHR;FRAIS DE TENUE DE COMPTE;COMISION MANTENIMIENTO;COMMISSIONE BONIFICO;ENTGELT KARTE;FRAIS CARTE;COMMISSION INTERVENTION;TARJETA CUOTA ANUAL",
        ),
    },
    "GOVERNMENT_AND_NON_PROFIT": {
        "government": _rows(
            "US",
            "IRS USATAXPYMT;US TREASURY 220 TAX PYMT;CA FTB TAX PYMT;NYS DTF PIT;DMV RENEWAL;CITY OF CHICAGO PARKING TICKET;NYC FINANCE PARKING TKT;US PASSPORT AGENCY;USCIS FEE;COUNTY PROPERTY TAX;STATE COURT FINE",
        )
        + _rows(
            "UK",
            "HMRC SELF ASSESSMENT;HMRC VAT;COUNCIL TAX;DVLA VEHICLE TAX;HM PASSPORT OFFICE;TFL PENALTY CHARGE;PCN PARKING FINE;HM COURTS TRIBUNAL;HOME OFFICE VISA;GOV.UK",
        )
        + _rows(
            "NG",
            "FIRS TAX;LIRS LAGOS REVENUE;FRSC LICENCE;NIS PASSPORT;LASG LAND USE CHARGE;REMITA FGN;NIMC NIN;LASTMA FINE;CAC REGISTRATION;JAMB REGISTRATION FEE",
        )
        + _rows(
            "EU",
            "FINANZAMT;KFZ-STEUER;RUNDFUNKBEITRAG;DGFIP IMPOTS;AMENDES.GOUV;AGENCIA TRIBUTARIA;DGT MULTAS;AGENZIA ENTRATE;BELASTINGDIENST;STADTKASSE",
        )
        + _rows(
            "IN",
            "INCOME TAX DEPT;GST PAYMENT;CBDT TAX;MCD PROPERTY TAX;BBMP TAX;PARIVAHAN CHALLAN;PASSPORT SEVA;TRAFFIC E-CHALLAN;UIDAI AADHAAR",
        ),
        "charity": _rows(
            "*",
            "RED CROSS;UNICEF;OXFAM;SAVE THE CHILDREN;MSF DOCTORS WITHOUT BORDERS;WWF;AMNESTY INTL;GIVEDIRECTLY;WIKIMEDIA FOUNDATION;HABITAT FOR HUMANITY;GOFUNDME;JUSTGIVING",
        )
        + _rows(
            "US",
            "AMERICAN CANCER SOCIETY;ST JUDE CHILDRENS;SALVATION ARMY;UNITED WAY;FEEDING AMERICA;GOODWILL DONATION;ACLU;PLANNED PARENTHOOD;NPR DONATION;GRACE BAPTIST CHURCH",
        )
        + _rows(
            "UK",
            "CANCER RESEARCH UK;BRITISH HEART FOUNDATION;MACMILLAN;NSPCC;RSPCA;SHELTER;CHILDREN IN NEED;COMIC RELIEF;MIND CHARITY;ST MARYS CHURCH",
        )
        + _rows(
            "NG",
            "RCCG;WINNERS CHAPEL;DEEPER LIFE;MOUNTAIN OF FIRE;CENTRAL MOSQUE;LEAP AFRICA;SOS CHILDRENS VILLAGES;SLUM2SCHOOL",
        )
        + _rows(
            "EU",
            "CARITAS;DEUTSCHE KREBSHILFE;SECOURS POPULAIRE;RESTOS DU COEUR;CRUZ ROJA;EMERGENCY ONG;AERZTE OHNE GRENZEN",
        )
        + _rows(
            "IN",
            "PM CARES FUND;AKSHAYA PATRA;GIVEINDIA;CRY INDIA;HELPAGE INDIA;GOONJ;ISKCON DONATION;TIRUPATI DEVASTHANAM",
        ),
    },
    "RENT_AND_UTILITIES": {
        "landlord": _rows("*", "RENT;MONTHLY RENT;HOUSE RENT;FLAT RENT;RENT PAYMENT;LANDLORD"),
    },
}

CITIES: dict[str, tuple[str, ...]] = {
    "US": tuple(
        [
            "NEW YORK NY",
            "BROOKLYN NY",
            "LOS ANGELES CA",
            "SAN FRANCISCO CA",
            "SAN JOSE CA",
            "CHICAGO IL",
            "HOUSTON TX",
            "AUSTIN TX",
            "DALLAS TX",
            "PHOENIX AZ",
            "SEATTLE WA",
            "DENVER CO",
            "MIAMI FL",
            "ORLANDO FL",
            "ATLANTA GA",
            "BOSTON MA",
            "PHILADELPHIA PA",
            "CHARLOTTE NC",
            "NASHVILLE TN",
            "PORTLAND OR",
            "LAS VEGAS NV",
            "COLUMBUS OH",
            "DETROIT MI",
            "MINNEAPOLIS MN",
            "ARLINGTON VA",
        ]
    ),
    "UK": tuple(
        [
            "LONDON",
            "MANCHESTER",
            "BIRMINGHAM",
            "LEEDS",
            "GLASGOW",
            "EDINBURGH",
            "BRISTOL",
            "LIVERPOOL",
            "SHEFFIELD",
            "CARDIFF",
            "NOTTINGHAM",
            "LEICESTER",
            "BRIGHTON",
            "OXFORD",
            "CAMBRIDGE",
            "READING",
            "BELFAST",
            "NEWCASTLE",
            "YORK",
            "MILTON KEYNES",
        ]
    ),
    "NG": tuple(
        [
            "LAGOS",
            "IKEJA",
            "LEKKI",
            "VICTORIA ISLAND",
            "YABA",
            "SURULERE",
            "ABUJA",
            "WUSE II",
            "GARKI",
            "PORT HARCOURT",
            "IBADAN",
            "KANO",
            "ENUGU",
            "BENIN CITY",
            "ABEOKUTA",
            "OWERRI",
            "UYO",
            "KADUNA",
            "IKOYI",
            "AJAH",
        ]
    ),
    "EU": tuple(
        [
            "BERLIN",
            "MUENCHEN",
            "HAMBURG",
            "FRANKFURT",
            "KOELN",
            "PARIS",
            "LYON",
            "MARSEILLE",
            "TOULOUSE",
            "MADRID",
            "BARCELONA",
            "VALENCIA",
            "MILANO",
            "ROMA",
            "TORINO",
            "AMSTERDAM",
            "ROTTERDAM",
            "BRUXELLES",
            "WIEN",
            "LISBOA",
            "DUBLIN",
        ]
    ),
    "IN": tuple(
        [
            "MUMBAI",
            "NEW DELHI",
            "BENGALURU",
            "BANGALORE",
            "CHENNAI",
            "HYDERABAD",
            "PUNE",
            "KOLKATA",
            "AHMEDABAD",
            "GURGAON",
            "NOIDA",
            "JAIPUR",
            "LUCKNOW",
            "KOCHI",
            "CHANDIGARH",
            "INDORE",
            "THANE",
            "NAVI MUMBAI",
        ]
    ),
}

BANKS: dict[str, tuple[str, ...]] = {
    "US": (
        "CHASE",
        "BANK OF AMERICA",
        "WELLS FARGO",
        "CITIBANK",
        "US BANK",
        "PNC",
        "TRUIST",
        "CAPITAL ONE",
        "TD BANK",
        "ALLY BANK",
    ),
    "UK": (
        "BARCLAYS",
        "HSBC",
        "LLOYDS",
        "NATWEST",
        "SANTANDER",
        "HALIFAX",
        "NATIONWIDE",
        "MONZO",
        "STARLING",
        "REVOLUT",
    ),
    "NG": (
        "GTBANK",
        "ACCESS BANK",
        "ZENITH BANK",
        "FIRST BANK",
        "UBA",
        "FIDELITY BANK",
        "STANBIC IBTC",
        "STERLING BANK",
        "WEMA BANK",
        "OPAY",
        "PALMPAY",
        "KUDA",
        "MONIEPOINT",
        "ECOBANK",
    ),
    "EU": (
        "DEUTSCHE BANK",
        "COMMERZBANK",
        "SPARKASSE",
        "ING",
        "BNP PARIBAS",
        "SOCIETE GENERALE",
        "CREDIT AGRICOLE",
        "BBVA",
        "CAIXABANK",
        "INTESA SANPAOLO",
        "UNICREDIT",
        "RABOBANK",
        "N26",
    ),
    "IN": (
        "HDFC BANK",
        "ICICI BANK",
        "SBI",
        "AXIS BANK",
        "KOTAK BANK",
        "PNB",
        "BANK OF BARODA",
        "CANARA BANK",
        "YES BANK",
        "IDFC FIRST",
        "INDUSIND",
    ),
}
