// The story grammar (train/story_words.h): every name, kind, place, problem and sentence pattern the
// corpus generator draws from. Slots: {H} {F} names, {Ht} {Ft} names as styled ("Pip the fox"), {he} {his}
// {him} {himself} and {fhe} {fhis} {fhim} {fhimself} pronouns, plus the story's chosen words.
#include "train/story_words.h"

namespace owl::train::story {

namespace {

// The other slots, filled once per story: {hdesc} {fdesc} ("brave little fox"), {fmove} ("hopping"), {where}
// {place} {atplace} (the Place), {act} {act2} (two activities), {color} {obj} {toy} {food} {skill} {game}
// {daytime}, {high} {thehigh} and {critter} {thecritter} (Pairs), {moral} (one of the problem's morals).

// Morals: clauses that read after "learned that" and "knew that".
constexpr const char* kFriendsHelp = "friends help each other";
constexpr const char* kNeverGiveUp = "you should never give up";
constexpr const char* kCareful = "it is good to take care of your things";
constexpr const char* kNotAlone = "everything is less scary when a friend is by your side";
constexpr const char* kKindness = "a little kindness can make a big difference";
constexpr const char* kKindWord = "a kind word and a smile can cheer up a sad friend";
constexpr const char* kTeamwork = "working together makes hard things easy";
constexpr const char* kBrave = "being brave means trying even when you are scared";
constexpr const char* kDark = "the dark is not so scary after all";
constexpr const char* kPatience = "good things take time and patience";
constexpr const char* kFixing = "broken things can often be fixed with a little help";
constexpr const char* kStayClose = "it is wise not to wander too far from home";
constexpr const char* kPractice = "practice helps you get better every day";
constexpr const char* kShare = "sharing makes everyone happy";
constexpr const char* kSayHello = "a new friend can be just one hello away";
constexpr const char* kFriendsHappy = "friends make every day brighter";
constexpr const char* kTakeTurns = "taking turns is much better than fighting";
constexpr const char* kMakeBest = "you can have fun even when things do not go as planned";
constexpr const char* kFriendsFun = "any day is a good day when you spend it with a friend";
constexpr const char* kKindOverWin = "being kind is more important than winning";
constexpr const char* kHonesty = "telling the truth is always the right thing to do";
constexpr const char* kGift = "the best presents come from the heart";
constexpr const char* kJudge = "you should never judge someone by how they look";
constexpr const char* kBelieve = "you can do more than you think";
constexpr const char* kHelpOthers = "helping others makes your own heart happy";
constexpr const char* kVisit = "good friends are there when you need them";

std::vector<Name> make_names() {
  return {
      {"Tom", Gender::he},      {"Ben", Gender::he},    {"Max", Gender::he},     {"Leo", Gender::he},
      {"Jack", Gender::he},     {"Finn", Gender::he},   {"Oscar", Gender::he},   {"Hugo", Gender::he},
      {"Milo", Gender::he},     {"Theo", Gender::he},   {"Oliver", Gender::he},  {"Sam", Gender::he},
      {"Toby", Gender::he},     {"Noah", Gender::he},   {"Felix", Gender::he},   {"Jasper", Gender::he},
      {"Arlo", Gender::he},     {"Otto", Gender::he},   {"Teddy", Gender::he},   {"Benny", Gender::he},
      {"Lily", Gender::she},    {"Mia", Gender::she},   {"Lucy", Gender::she},   {"Rosie", Gender::she},
      {"Daisy", Gender::she},   {"Ella", Gender::she},  {"Anna", Gender::she},   {"Zoe", Gender::she},
      {"Ruby", Gender::she},    {"Molly", Gender::she}, {"Poppy", Gender::she},  {"Sophie", Gender::she},
      {"Emma", Gender::she},    {"Ivy", Gender::she},   {"Luna", Gender::she},   {"Bella", Gender::she},
      {"Nora", Gender::she},    {"Hazel", Gender::she}, {"Willow", Gender::she}, {"Tilly", Gender::she},
      {"Pip", Gender::any},     {"Bo", Gender::any},    {"Pebble", Gender::any}, {"Button", Gender::any},
      {"Dot", Gender::any},     {"Maple", Gender::any}, {"Clover", Gender::any}, {"Nutmeg", Gender::any},
      {"Pepper", Gender::any},  {"Coco", Gender::any},  {"Ziggy", Gender::any},  {"Sandy", Gender::any},
      {"Biscuit", Gender::any}, {"Kiki", Gender::any},  {"Momo", Gender::any},   {"Juniper", Gender::any},
      {"Fizz", Gender::any},    {"Binky", Gender::any}, {"Toffee", Gender::any}, {"Wren", Gender::any},
  };
}

std::vector<Kind> make_kinds() {
  constexpr Styling k = Styling::the_kind;  // NOLINT(readability-identifier-naming): a short alias for the table
  // clang-format off
  return {
      {"fox", Gender::any, "running", k, ""},          {"rabbit", Gender::any, "hopping", k, ""},
      {"bunny", Gender::any, "hopping", k, ""},        {"mouse", Gender::any, "scurrying", k, ""},
      {"squirrel", Gender::any, "scampering", k, ""},  {"hedgehog", Gender::any, "trotting", k, ""},
      {"bear", Gender::any, "walking", k, ""},         {"duck", Gender::any, "waddling", k, ""},
      {"owl", Gender::any, "flying", k, ""},           {"robin", Gender::any, "flying", k, ""},
      {"kitten", Gender::any, "running", k, ""},       {"puppy", Gender::any, "running", k, ""},
      {"frog", Gender::any, "hopping", k, ""},         {"turtle", Gender::any, "crawling", k, ""},
      {"pig", Gender::any, "trotting", k, ""},         {"lamb", Gender::any, "skipping", k, ""},
      {"goat", Gender::any, "trotting", k, ""},        {"elephant", Gender::any, "stomping", k, ""},
      {"otter", Gender::any, "running", k, ""},        {"beaver", Gender::any, "waddling", k, ""},
      {"badger", Gender::any, "trotting", k, ""},      {"penguin", Gender::any, "waddling", k, ""},
      {"lion", Gender::any, "running", k, ""},         {"monkey", Gender::any, "swinging", k, ""},
      {"hen", Gender::she, "running", k, ""},          {"bee", Gender::any, "buzzing", k, ""},
      {"ladybug", Gender::any, "flying", k, ""},       {"snail", Gender::any, "sliding", k, ""},
      {"giraffe", Gender::any, "walking", k, ""},      {"zebra", Gender::any, "trotting", k, ""},
      {"panda", Gender::any, "rolling", k, ""},        {"pony", Gender::any, "trotting", k, ""},
      {"mole", Gender::any, "crawling", k, ""},        {"dragon", Gender::any, "flying", k, ""},
      {"robot", Gender::any, "rolling", k, ""},        {"teddy bear", Gender::any, "walking", k, ""},
      {"girl", Gender::she, "running", Styling::bare, ""},
      {"boy", Gender::he, "running", Styling::bare, ""},
      {"princess", Gender::she, "walking", Styling::title, "Princess"},
      {"prince", Gender::he, "riding", Styling::title, "Prince"},
  };
  // clang-format on
}

std::vector<Trait> make_traits() {
  return {
      {"curious", "{he} always wanted to know what was around the next corner."},
      {"kind", "{he} always had a kind word for everyone."},
      {"brave", "{he} liked to try new things, even hard ones."},
      {"shy", "{he} was quiet and a little shy, but {he} had a big heart."},
      {"happy", "{he} hummed a little song wherever {he} went."},
      {"clever", "{he} was very good at solving puzzles and riddles."},
      {"gentle", "{he} was always gentle with the smallest creatures."},
      {"playful", "{he} never wanted to stop playing, not even for dinner."},
      {"friendly", "{he} said hello to everyone {he} met."},
      {"cheerful", "{he} smiled so much that everyone around {him} smiled too."},
      {"busy", "{he} was always busy with something, from morning until night."},
      {"funny", "{he} loved to tell jokes and make everyone laugh."},
      {"helpful", "{he} was always happy to lend a hand."},
      {"careful", "{he} always thought twice before {he} did something."},
      {"silly", "Sometimes {he} wore {his} hat upside down, just for fun."},
      {"sleepy", "{he} loved long naps in the warm sun."},
      {"lively", "{he} could never sit still for very long."},
      {"thoughtful", "{he} often sat quietly and wondered about the stars."},
  };
}

std::vector<Place> make_places() {
  return {
      {"in a big green forest",
       "the forest",
       "in the forest",
       {"Tall trees grew there, and birds sang in their branches all day long.",
        "The forest was full of soft moss, ferns and winding little paths."},
       {"climb trees", "collect pine cones", "listen to the birds sing"}},
      {"in a sunny meadow full of flowers",
       "the meadow",
       "in the meadow",
       {"Butterflies danced over the grass, and the flowers smelled sweet.",
        "Bees buzzed from flower to flower in the warm sun."},
       {"chase butterflies", "pick flowers", "roll down the grassy slope"}},
      {"on a busy farm",
       "the farm",
       "on the farm",
       {"There were hens, cows, pigs and a big red barn.",
        "Every morning the rooster woke everyone up with a loud song."},
       {"feed the hens", "play in the hay", "ride on the old wagon"}},
      {"in a small village by the sea",
       "the village",
       "in the village",
       {"Little boats bobbed in the harbor, and seagulls called overhead.",
        "The houses were painted blue and white, and the air smelled of salt."},
       {"watch the boats come in", "look for shells on the shore", "splash in the waves"}},
      {"near a sandy beach",
       "the beach",
       "on the beach",
       {"The sand was warm and soft, and the waves rolled in and out.",
        "Crabs ran sideways across the sand, and seagulls flew over the water."},
       {"build sand castles", "dig in the sand", "jump over the waves"}},
      {"beside a quiet pond",
       "the pond",
       "by the pond",
       {"Lily pads floated on the water, and dragonflies zoomed over it.",
        "Ducks swam in circles, and frogs sang in the reeds."},
       {"watch the fish", "skip stones across the water", "sail little leaf boats"}},
      {"in a big garden behind an old house",
       "the garden",
       "in the garden",
       {"Roses and tulips grew there, and a little fountain splashed in the middle.",
        "There were rows of carrots and beans and a tall apple tree."},
       {"smell the flowers", "help water the plants", "play hide and seek behind the bushes"}},
      {"on top of a green hill",
       "the hill",
       "on the hill",
       {"From the top, you could see the whole valley.", "The wind was always blowing there, just right for kites."},
       {"fly kites", "roll down the hill", "watch the clouds go by"}},
      {"by a wide blue river",
       "the river",
       "by the river",
       {"The water sparkled in the sun as it rushed over the stones.",
        "Willow trees leaned over the water, and fish jumped in the current."},
       {"throw sticks into the water", "watch the fish jump", "sit on the riverbank"}},
      {"in a busy little town",
       "the town",
       "in the town",
       {"There was a bakery, a toy shop and a market with colorful stalls.",
        "Bells rang from the clock tower every hour."},
       {"visit the bakery", "walk to the market", "play in the town square"}},
      {"next to a big park",
       "the park",
       "in the park",
       {"The park had swings, a slide and a pond with ducks.",
        "Children and animals played there from morning until night."},
       {"go down the slide", "play on the swings", "feed the ducks"}},
      {"high up on a snowy mountain",
       "the mountain",
       "on the mountain",
       {"The air was cool and fresh, and the snow on the peak shone like sugar.",
        "Goats climbed the rocky paths, and eagles flew in the sky."},
       {"climb the rocks", "slide down the snow", "look at the valley below"}},
      {"deep in the green jungle",
       "the jungle",
       "in the jungle",
       {"Parrots squawked in the trees, and monkeys swung from vine to vine.",
        "Big leaves made shade, and colorful flowers grew everywhere."},
       {"swing on the vines", "play by the waterfall", "look for bright flowers"}},
      {"on a tiny island in the sea",
       "the island",
       "on the island",
       {"Palm trees swayed in the breeze, and the water was clear and blue.",
        "The island was so small that you could walk around it before lunch."},
       {"look for crabs", "swim in the warm water", "watch the sunset"}},
      {"in an old apple orchard",
       "the orchard",
       "in the orchard",
       {"The trees were heavy with red and green apples.", "In spring, the trees were covered with white blossoms."},
       {"pick apples", "climb the old trees", "play in the fallen leaves"}},
      {"beside a big blue lake",
       "the lake",
       "by the lake",
       {"Swans glided on the water, and the hills shone in it like in a mirror.",
        "On calm days, the lake was as smooth as glass."},
       {"swim in the lake", "watch the swans", "sail {his} little boat"}},
      {"in a quiet valley between two hills",
       "the valley",
       "in the valley",
       {"A little stream ran through it, and sheep ate the soft grass.",
        "It was a peaceful place, where the wind whispered in the grass."},
       {"pick wild berries", "paddle in the stream", "play with the lambs"}},
      {"at the edge of the old woods",
       "the woods",
       "in the woods",
       {"The woods were full of mushrooms, ferns and old hollow logs.",
        "Owls hooted there at night, and deer walked there in the morning."},
       {"look for mushrooms", "build little huts out of sticks", "play hide and seek among the trees"}},
      {"in a cozy toy shop on a quiet street",
       "the toy shop",
       "in the toy shop",
       {"The shelves were full of dolls, drums, trains and spinning tops.",
        "At night, when the shop was closed, the toys came to life."},
       {"play with the spinning tops", "ride the little wooden train", "march with the toy soldiers"}},
      {"in a tall castle on a hill",
       "the castle",
       "in the castle",
       {"The castle had high towers, long halls and a big garden.",
        "Flags waved from the towers, and a bridge led over the moat."},
       {"run through the long halls", "climb the tower stairs", "play in the castle garden"}},
      {"in a bright playroom full of toys",
       "the playroom",
       "in the playroom",
       {"There were blocks, books and a big soft rug to play on.",
        "Sunlight came in through the big window and made the room warm."},
       {"build towers with blocks", "read picture books", "play pretend"}},
      {"in a big red barn",
       "the barn",
       "in the barn",
       {"The barn smelled of hay, and swallows nested under the roof.",
        "Cows mooed and horses stamped in their stalls."},
       {"jump in the hay", "swing on the old rope", "count the swallows"}},
      {"in a warm sandy desert",
       "the desert",
       "in the desert",
       {"The sun was hot, and the sand dunes looked like golden waves.", "At night, the sky was full of bright stars."},
       {"slide down the dunes", "look for pretty stones", "rest in the shade of a palm tree"}},
      {"in a land of ice and snow",
       "the snowy land",
       "in the snowy land",
       {"Everything was white and sparkly, and the ice cracked and sang.",
        "The nights were long, and colorful lights danced in the sky."},
       {"slide on the ice", "build snowmen", "make snow angels"}},
      {"in a big city with tall buildings",
       "the city",
       "in the city",
       {"Cars honked, buses rumbled, and people hurried everywhere.",
        "On the roofs, there were little gardens full of flowers."},
       {"watch the busy streets", "ride on the bus", "play in the little park on the corner"}},
      {"near an old windmill",
       "the windmill",
       "by the windmill",
       {"The big sails of the windmill turned slowly in the wind.", "Around it were fields of golden wheat."},
       {"run through the wheat", "watch the sails turn", "chase the chickens"}},
  };
}

// Each problem: {name, intro, when, thanks, paired, spans_days, setup, cry, offer, action, resolve, morals}.
std::vector<Problem> make_problems() {
  // Short aliases for the table below.
  constexpr Intro early = Intro::early, late = Intro::late;           // NOLINT(readability-identifier-naming)
  constexpr When any = When::any;                                     // NOLINT(readability-identifier-naming)
  constexpr Thanks thank = Thanks::from_hero, none = Thanks::none;    // NOLINT(readability-identifier-naming)
  // clang-format off
  return {
      {"lost thing", late, any, thank, false, false,
       {"{H} was playing with {his} {color} {obj} near {place}. When {he} turned around, the {obj} was gone!",
        "{H} could not find {his} favorite {obj}. {he} looked under the bed, behind the door and in every corner, "
        "but it was not there.",
        "{H} went to get {his} {color} {obj}, but it was not where {he} had left it."},
       {"\"Oh no! Where is my {obj}?\" cried {H}.",
        "\"I can't find my {obj} anywhere,\" said {H}, and a big tear rolled down {his} cheek."},
       {"\"Don't worry, {H}. I will help you look for it,\" said {F}.",
        "\"Let's look together,\" said {F}. \"Two pairs of eyes are better than one.\""},
       {"{H} and {F} looked under the bushes, behind the rocks and inside an old hollow log.",
        "The two friends searched all over {place}. They looked high and low, and they did not give up."},
       {"At last, {F} saw something {color} peeking out from under a big leaf. It was the {obj}!",
        "Then {H} remembered that {he} had put the {obj} down by the old tree. They ran there, and there it was!"},
       {kFriendsHelp, kNeverGiveUp, kCareful}},
      {"storm", late, any, thank, false, false,
       {"{H} was playing outside when the sky turned dark. The wind began to blow, and big drops of rain fell from "
        "the clouds.",
        "{H} was far from home when a big storm came. Thunder boomed, and the rain came pouring down."},
       {"\"I am scared of the thunder!\" cried {H}.",
        "\"What should I do?\" said {H}. {he} was cold, wet and a little bit scared."},
       {"\"Come with me, {H}! My home is close by,\" called {F}.",
        "\"Quick, follow me! I know a dry place where we can wait,\" said {F}."},
       {"{F} took {H} to a warm, dry place. They sat close together and listened to the rain.",
        "They ran together to {F}'s home. {F} gave {H} a soft blanket and a cup of warm milk."},
       {"Soon the storm was over. The sun came out, and a big rainbow shone across the sky.",
        "After a while, the thunder stopped and the clouds went away. Everything smelled fresh and clean."},
       {kFriendsHelp, kNotAlone, kKindness}},
      {"sad friend", early, any, none, false, false,
       {"{H} saw {F} sitting all alone under a tree. {F} looked very sad.",
        "{H} found {F} sitting on a rock with tears in {fhis} eyes."},
       {"\"What is wrong, {F}?\" asked {H}. \"Nobody wants to play with me today,\" said {F} quietly.",
        "\"Why are you sad?\" asked {H}. \"I feel lonely, and everything is going wrong,\" said {F} in a small voice."},
       {"{H} wanted to help {F} feel better. {he} thought and thought, and then {he} had an idea.",
        "\"I know something that will make you smile,\" said {H}."},
       {"{H} picked some pretty flowers and made a little crown for {F}. Then {he} told {fhim} a funny story about "
        "a frog who wore a hat.",
        "{H} and {F} played {game} together. {H} made silly faces until {F} began to giggle."},
       {"Soon {F} was laughing again. \"Thank you, {H}. You are a true friend,\" {fhe} said.",
        "{F} gave {H} a big hug. {fhe} did not feel sad anymore."},
       {kKindness, kKindWord}},
      {"too high", late, any, thank, false, false,
       {"{H} saw {high}. {he} jumped and stretched, but {he} could not reach it.",
        "{H} spotted {high}. {he} stood on {his} toes, but it was still too high."},
       {"\"It is too high for me,\" sighed {H}.", "\"If only I were a little taller,\" said {H} sadly."},
       {"\"I have an idea,\" said {F}. \"Let's work together!\"",
        "\"Maybe I can help,\" said {F}. \"Together we are much taller than one.\""},
       {"{F} stood very still, and {H} climbed up on {fhis} back. {H} stretched as far as {he} could.",
        "{H} and {F} pushed a big box under it. {F} held the box steady while {H} climbed on top."},
       {"At last, {H} got hold of {thehigh}! \"We did it!\" shouted the two friends.",
        "With one last stretch, {H} reached {thehigh}. {he} and {F} cheered and danced around."},
       {kTeamwork, kFriendsHelp}},
      {"dark", late, When::night, thank, false, false,
       {"{H} could not sleep. It was very dark, and the shadows on the wall looked like big scary monsters.",
        "{H} was afraid of the dark. When the sun went down, {he} hid under {his} blanket and did not want to come "
        "out."},
       {"\"What if something scary is out there?\" whispered {H}.",
        "\"I don't like the dark,\" said {H} in a tiny voice."},
       {"\"Come outside with me, {H}. I want to show you something,\" said {F} softly.",
        "\"The dark is not so bad,\" said {F} gently. \"Let me show you.\""},
       {"{H} stayed close to {F}, and they stepped outside together. Above them, the sky was full of tiny stars.",
        "{F} took {H} outside, where little fireflies were glowing like tiny lamps."},
       {"The night was quiet and beautiful. The moon shone down on them, and {H} was not scared anymore.",
        "{H} saw that the shadows were only trees and bushes. {he} laughed and felt brave."},
       {kBrave, kDark}},
      {"broken toy", late, any, thank, false, false,
       {"{H} was playing with {his} {toy} when it fell and broke into pieces.",
        "{H}'s favorite {toy} was broken, and {he} did not know how to fix it."},
       {"\"My {toy} is broken!\" cried {H}. \"Now I can't play with it.\"",
        "{H} held the broken pieces and felt like crying."},
       {"\"Don't be sad. I think we can fix it,\" said {F}.",
        "\"My grandpa taught me how to fix things,\" said {F}. \"Let me try.\""},
       {"{F} brought some glue and string. Slowly and carefully, {H} and {F} put the pieces back together.",
        "They worked all afternoon. {H} held the pieces, and {F} fixed them with glue and string."},
       {"At last, the {toy} was as good as new! {H} clapped with joy.",
        "When they were done, the {toy} looked a little different, but it worked again. {H} loved it even more."},
       {kPatience, kFixing, kFriendsHelp}},
      {"lost way", late, any, thank, false, false,
       {"{H} followed a pretty butterfly far away from home. When {he} looked around, {he} did not know where {he} "
        "was.",
        "{H} went for a long walk and went too far. Soon everything looked strange, and {he} could not find the way "
        "home."},
       {"\"Which way is home?\" said {H}, and {his} voice shook.", "\"I am lost!\" cried {H}."},
       {"\"I know the way,\" said {F}. \"Stay close to me.\"",
        "\"Don't be afraid. We will find your home together,\" said {F}."},
       {"{F} and {H} followed a little stream, past the big rocks and over an old wooden bridge.",
        "They walked side by side. {F} showed {H} how to look for signs, like a tall tree and a red roof."},
       {"Soon {H} saw {his} home in the distance. {he} was so happy that {he} jumped up and down.",
        "At last, they came back to {place}. {H}'s family ran out and gave {him} a big hug."},
       {kStayClose, kFriendsHelp}},
      {"learning", late, any, thank, false, true,
       {"{H} wanted to learn to {skill}. {he} tried and tried, but it was very hard.",
        "{H} really wanted to {skill}, but every time {he} tried, something went wrong."},
       {"\"I will never be able to {skill},\" said {H} sadly.",
        "\"It is too hard,\" sighed {H}. \"Maybe I should give up.\""},
       {"\"Everybody finds it hard at first,\" said {F}. \"I can help you practice.\"",
        "\"Don't give up,\" said {F}. \"Let's try again, one step at a time.\""},
       {"Every day, {H} and {F} practiced together. {H} made many mistakes, but {he} kept trying.",
        "{F} showed {H} what to do, slowly and patiently. {H} tried again, and again, and again."},
       {"One morning, {H} could {skill} all by {himself}! \"Look at me!\" {he} shouted.",
        "At last, {H} did it! {he} could {skill}, and {F} cheered for {him}."},
       {kPractice, kNeverGiveUp}},
      {"hungry friend", early, any, none, false, false,
       {"{H} had a basket of {food}. On the way home, {he} met {F}, who had not eaten all day.",
        "{H} was about to eat {his} {food} when {he} saw {F} sitting alone. {F}'s tummy was rumbling."},
       {"\"I could not find any food today,\" said {F} sadly.", "\"I am so hungry,\" said {F} in a small voice."},
       {"{H} looked at {his} {food}. It was not a lot of food, but {he} smiled. \"Let's share,\" {he} said.",
        "\"You can have half of my {food},\" said {H}."},
       {"{H} and {F} sat down under a tree and shared the {food}. They talked and laughed while they ate.",
        "{H} gave {F} the biggest share. They ate together in the warm sun."},
       {"The food tasted even better because they shared it. \"Thank you, {H},\" said {F}. \"You are very kind.\"",
        "Soon both of them were full and happy. {F} gave {H} a big hug."},
       {kShare, kKindness}},
      {"lonely", Intro::late_stranger, When::own, none, false, false,
       {"{H} and {his} family had just moved to {place}, and {H} did not know anyone yet. {he} felt lonely.",
        "{H} was new {atplace}. {he} wanted to make a friend, but {he} was too shy to say hello."},
       {"\"Will anybody want to play with me?\" {H} wondered.", "{H} sat alone and watched the others play."},
       {"\"Hello! Do you want to play with me?\" asked {F}.", "\"You look nice. Can I sit with you?\" asked {F}."},
       {"{H} smiled and said yes. {H} and {F} played {game}, and they ran until they were out of breath.",
        "{H} and {F} explored {place} together. {F} showed {H} all the best places to play."},
       {"By the end of the day, {H} did not feel lonely anymore. {he} had found a new friend.",
        "When the sun went down, {H} and {F} were already best friends."},
       {kSayHello, kFriendsHappy}},
      {"quarrel", early, any, none, false, false,
       {"{H} and {F} both wanted to play with the same {toy}. {H} pulled one way, and {F} pulled the other way.",
        "{H} and {F} found a shiny {color} ball in the grass. \"It's mine!\" said {H}. \"No, it's mine!\" said {F}."},
       {"Soon they were both angry, and nobody was having any fun.",
        "\"You never let me play!\" shouted {F}, and {fhe} stomped away."},
       {"{H} thought for a moment. \"Let's take turns,\" {he} said. \"You can go first.\"",
        "Then {H} had an idea. \"What if we play with it together?\" {he} asked."},
       {"{H} and {F} took turns. Then they made up a new game that they could both play.",
        "They played with it together, and it was much more fun than fighting."},
       {"\"I'm sorry I was angry,\" said {F}. \"I'm sorry too,\" said {H}, and they both laughed.",
        "By the end of the day, they had forgotten all about the fight."},
       {kTakeTurns, kShare}},
      {"rescue", late, any, thank, false, false,
       {"{H} heard a tiny cry coming from a thorny bush. It was {critter}, and it was stuck.",
        "{H} found {critter} stuck in a deep hole. It was too small to climb out by itself."},
       {"\"Poor little thing,\" said {H}. \"I have to help it.\"", "\"Don't be scared, little one,\" said {H} softly."},
       {"\"I can help too!\" said {F}. \"Let's get it out together.\"",
        "\"I will hold on to you, so you can reach it,\" said {F}."},
       {"Carefully, {H} and {F} helped {thecritter} out. It was scared, but it was not hurt.",
        "{F} held on tight while {H} reached out and gently lifted {thecritter} to safety."},
       {"Then they took {thecritter} home to its mother, who was very happy to see it.",
        "{thecritter} looked at them with bright eyes, as if to say thank you. Then it hurried happily home."},
       {kHelpOthers, kKindness}},
      {"rainy picnic", early, any, none, true, false,
       {"{H} and {F} planned a picnic. {H} packed some {food}, a blanket and a jug of lemonade. But just as they sat "
        "down, it began to rain.",
        "{H} and {F} were going to have a picnic. But on the day of the picnic, the rain came pouring down."},
       {"\"Our picnic is ruined,\" said {H} sadly.", "\"Now we can't go outside,\" sighed {H}."},
       {"\"Don't be sad,\" said {F}. \"We can still have fun.\"",
        "{F} looked out at the rain and smiled. \"I have an idea,\" {fhe} said."},
       {"They spread the blanket on the floor and had their picnic inside, while the rain tapped on the window.",
        "They put on their boots and jumped in every puddle they could find. Splash! Splash!"},
       {"It was the best picnic ever, even without the sun.",
        "Soon they were wet, muddy and laughing. It was a wonderful day after all."},
       {kMakeBest, kFriendsFun}},
      {"race", early, any, none, false, false,
       {"{H} and {F} were running a race to the big tree. {H} wanted to win more than anything.",
        "There was a big race {atplace}, and {H} wanted to win. {F} was running too."},
       {"Halfway there, {F} tripped over a root and fell. \"Ouch!\" cried {F}.",
        "Suddenly, {F} slipped and fell in the mud. {fhe} had hurt {fhis} knee."},
       {"{H} could have kept running and won. But {he} stopped and ran back to {F}.",
        "{H} stopped. The race did not matter anymore. \"Are you all right?\" {he} asked."},
       {"{H} helped {F} get up, and they walked to the finish together, slowly, step by step.",
        "{H} helped {F} to {fhis} feet. Then they crossed the finish line together."},
       {"They did not win the race, but everybody clapped for them the loudest.",
        "\"Thank you for coming back for me,\" said {F}. \"You are the real winner.\""},
       {kKindOverWin, kFriendsHelp}},
      {"crossing", late, any, thank, false, false,
       {"{H} wanted to pick the sweet berries on the other side of a stream. But the water was too deep and too "
        "fast to cross.",
        "{H} wanted to visit {his} grandma on the other side of the river, but the old bridge had been washed "
        "away."},
       {"\"How will I ever get across?\" wondered {H}.", "\"I can't get across,\" said {H}. \"What can I do?\""},
       {"\"Let's build a bridge,\" said {F}.",
        "\"I have an idea,\" said {F}. \"If we work together, we can make a way across.\""},
       {"{H} and {F} found a long log. They pushed and pulled until the log lay across the water.",
        "{H} and {F} carried big flat stones into the water, one by one, until they made a path."},
       {"Then they walked across, one careful step at a time. They had made it!",
        "They crossed the water together, and {H} did not even get {his} feet wet."},
       {kTeamwork, kFriendsHelp}},
      {"garden", late, any, thank, false, true,
       {"{H} planted some seeds in a little garden. Every morning {he} looked, but nothing grew.",
        "{H} wanted to grow tall sunflowers. {he} planted the seeds, but the next day there was still nothing "
        "there."},
       {"\"Why don't my seeds grow?\" asked {H}.", "\"Maybe my seeds are broken,\" said {H} sadly."},
       {"\"Seeds need water, sun and time,\" said {F}. \"You have to be patient.\"",
        "{F} laughed kindly. \"Seeds take a long time to grow. Let's take care of them together.\""},
       {"Every day, {H} and {F} watered the seeds. They pulled the weeds and waited.",
        "{H} watered the seeds every morning, and {F} came to help every afternoon. Days went by, and then weeks."},
       {"One day, tiny green leaves came out of the ground. Soon there were tall yellow flowers everywhere!",
        "At last, the first little green shoots popped up. By summer, the garden was full of flowers."},
       {kPatience}},
      {"honesty", early, any, none, false, false,
       {"{H} was playing at {F}'s house when {he} knocked over {F}'s favorite cup. It fell on the floor and broke.",
        "{H} borrowed {F}'s {toy} without asking, and by accident it broke."},
       {"{H} was scared. {he} hid the pieces under a rug and did not say anything.",
        "{H} did not know what to do. {he} thought about hiding it, but {he} had a funny feeling in {his} tummy."},
       {"At last, {H} went to {F}. \"I'm sorry. I broke it,\" {he} said. \"It was an accident.\"",
        "{H} took a deep breath and told {F} the truth."},
       {"{F} was sad for a moment. Then {fhe} said, \"Thank you for telling me the truth.\"",
        "{F} looked at the pieces. \"It's all right,\" {fhe} said. \"I am glad you told me.\""},
       {"Together they fixed it with some glue, and {H} felt light and happy again.",
        "{H} helped {F} make a new one, and it was even prettier than before."},
       {kHonesty}},
      {"birthday", early, any, none, false, false,
       {"It was {F}'s birthday, and {H} had forgotten all about it! Everyone else had a present, but {H} had "
        "nothing.",
        "{H} suddenly remembered that it was {F}'s birthday. There was no time to buy anything, and {H} had no "
        "present."},
       {"\"What can I give {F}?\" {H} worried.", "\"Oh no, I have no present,\" whispered {H}."},
       {"Then {H} had an idea. {he} ran to {place} and started to work.",
        "{H} sat down and thought very hard. Then {he} smiled, because {he} knew just what to do."},
       {"{H} picked the prettiest flowers and drew a picture of {F} and {himself} playing together.",
        "{H} made a card with a big heart on it and wrote on it: To my best friend."},
       {"When {F} saw the gift, {fhe} smiled from ear to ear. \"This is the best present of all,\" {fhe} said.",
        "{F} loved it. \"You made this just for me?\" {fhe} asked, and {fhe} gave {H} a big hug."},
       {kGift}},
      {"scary neighbor", Intro::in_setup, When::own, thank, true, false,
       {"At the end of the path lived a big {fkind} named {F}. {F} had a loud voice and big feet, and {H} was a "
        "little scared of {fhim}.",
        "Everyone said that {F}, the big {fkind} who lived up on the hill, was grumpy and mean. {H} always hurried "
        "past {fhis} house."},
       {"Whenever {F} came near, {H} ran away and hid.",
        "\"What if {F} is angry with me?\" {H} thought, and {he} stayed far away."},
       {"One day, {H} dropped {his} {color} {obj} into a deep hole, and {he} could not get it out. Just then, {F} "
        "came {fmove} by.",
        "One day, {H} got {his} foot stuck between two big rocks. {he} called for help, and the first one to come "
        "was {F}."},
       {"{F} reached into the hole and gently pulled out the {obj}. \"Here you are,\" {fhe} said with a warm smile.",
        "{F} carefully moved the rock and helped {H} up. \"Are you all right?\" {fhe} asked kindly."},
       {"{H} was surprised. {F} was not scary at all! {fhe} was kind and gentle.",
        "{H} saw that {F} had a kind heart. After that, {H} visited {F} every day."},
       {kJudge}},
      {"big show", late, any, thank, false, true,
       {"There was going to be a big show {atplace}, and {H} was going to sing a song. But {he} was very shy.",
        "{H} was going to dance in the big show, but {he} had never danced in front of anyone. {his} legs felt "
        "like jelly."},
       {"\"What if everybody laughs at me?\" said {H}.", "\"I can't do it. I am too scared,\" whispered {H}."},
       {"\"Just look at me and pretend we are playing,\" said {F}.",
        "\"I will be right there with you,\" said {F}. \"You can do it.\""},
       {"{H} and {F} practiced every day until {H} knew every part by heart.",
        "Every evening, {H} practiced for {F}, and {F} clapped every time."},
       {"When {H} went on the stage, {he} looked at {F} and began. Everybody clapped and cheered!",
        "At the show, {H} took a deep breath and did {his} very best. When it was over, everyone cheered."},
       {kBrave, kBelieve}},
      {"cold winter", late, When::own, thank, true, false,
       {"When winter came, the days grew short and cold, and {H} shivered in the icy wind.",
        "On the first cold day of winter, {H} could not find {his} warm scarf, and the wind was freezing."},
       {"\"Brr! I am so cold,\" said {H}, and {his} teeth chattered.",
        "{H} hugged {himself} to keep warm. \"I wish it were summer,\" {he} said."},
       {"\"Come and share my blanket,\" said {F}.",
        "{F} took off {fhis} long red scarf. \"It is big enough for two,\" {fhe} said."},
       {"{H} and {F} sat close together under the blanket by a little fire and drank warm soup.",
        "They wrapped the scarf around both of them and walked home side by side."},
       {"Soon {H} was warm and cozy. The snow kept falling outside, but {he} felt warm all over.",
        "By the time they got home, {H} was not cold anymore, and {his} heart felt warm too."},
       {kShare, kKindness}},
      {"big job", late, any, thank, false, false,
       {"{H} had to collect nuts for the winter. There were so many, and {his} basket was so heavy.",
        "{H} had to put away all of {his} toys, but there were far too many to put away alone."},
       {"\"I will never finish all this by myself,\" sighed {H}.",
        "{H} worked and worked, but the job seemed to grow bigger and bigger."},
       {"\"Two can do it faster than one,\" said {F}. \"I will help you.\"", "\"Let me help,\" said {F} with a smile."},
       {"{H} and {F} worked side by side. They sang a happy song while they worked, and the time flew by.",
        "{F} carried the big things, and {H} carried the small ones. Back and forth they went, again and again."},
       {"Before lunch, the work was all done. \"That was fun!\" laughed {H}.",
        "Soon the job was finished, and there was still time left to play."},
       {kTeamwork, kFriendsHelp}},
      {"sick", early, any, thank, false, true,
       {"{H} caught a cold and had to stay in bed. {he} could not go out to play, and the days felt very long.",
        "{H} was sick with a fever. {he} had to stay inside while everyone else played in the sun."},
       {"\"I miss playing outside,\" said {H} with a sniff.",
        "{H} looked out of the window and sighed. \"I feel so alone,\" {he} said."},
       {"Then there was a knock at the door. It was {F}, with a basket of {food}!",
        "Just then, {F} came to visit with a big smile and a bag of {food}."},
       {"{F} read stories to {H} and told {him} all the news from {place}.",
        "{F} sat by the bed, and they played games and sang silly songs together."},
       {"Every day, {F} came to visit, and soon {H} was well again.",
        "With {F} there, the days went by quickly, and soon {H} felt much better."},
       {kVisit, kKindness}},
      {"kite", late, any, thank, true, false,
       {"{H} made a {color} kite all by {himself}. But when {he} ran with it, the kite just bumped along the "
        "ground.",
        "{H} had a new kite, but every time {he} tried to fly it, it fell down again."},
       {"\"Why won't it fly?\" cried {H}.", "\"This kite is no good,\" said {H}, and {he} sat down with a sigh."},
       {"\"You need more wind,\" said {F}. \"Let's take it to the top of the hill.\"",
        "\"Let me hold it up while you run,\" said {F}."},
       {"They climbed to the top of the hill, where the wind was strong. {H} held the string tight and began to run.",
        "{F} held the kite up high, and {H} ran as fast as {he} could. Then {F} let go."},
       {"Up, up, up went the kite, high into the blue sky! {H} laughed and laughed.",
        "The wind caught the kite, and it flew up higher than the trees. \"It's flying!\" shouted {H}."},
       {kNeverGiveUp, kTeamwork}},
  };
  // clang-format on
}

}  // namespace

const Grammar& grammar() {
  static const Grammar g = [] {
    Grammar r;
    r.names = make_names();
    r.invented.onsets = {"B",  "D",  "F",  "G",  "H",  "J",  "K",  "L",  "M",  "N",  "P",  "R",  "S", "T",
                         "V",  "W",  "Z",  "Br", "Bl", "Ch", "Cl", "Dr", "Fl", "Gr", "Pl", "Sh", "Sn", "Tr"};
    r.invented.vowels = {"a", "e", "i", "o", "u", "a", "e", "i", "o", "u", "oo", "ee"};  // plain ones twice as likely
    r.invented.middles = {"b", "d", "g",  "l",  "m",  "n",  "p",  "r",  "s",  "t", "v",
                          "z", "ll", "mm", "nn", "pp", "tt", "zz", "nd", "mb", "nk"};
    // No "y" or "er": they make English words ("Happy", "Better").
    r.invented.endings = {"a", "o", "ie", "i", "el", "in", "an", "et", "ix", "us"};
    r.kinds = make_kinds();
    r.traits = make_traits();
    r.sizes = {"little", "small", "young", "tiny"};
    r.places = make_places();
    r.problems = make_problems();
    r.colors = {"red", "blue", "green", "yellow", "orange", "purple", "pink", "white", "brown", "golden"};
    r.objects = {"ball",   "kite",    "hat",    "scarf",  "shoe",   "book",    "toy boat",
                 "ribbon", "whistle", "marble", "bucket", "mitten", "toy car", "umbrella"};
    r.toys = {"toy boat",  "wooden train", "kite",          "toy car",   "drum",
              "music box", "little cart",  "paper lantern", "toy plane", "dollhouse"};
    r.foods = {"apples", "berries", "carrots", "cookies", "nuts",       "cherries",
               "plums",  "muffins", "pears",   "grapes",  "sandwiches", "strawberries"};
    r.skills = {"swim",      "ride a bike", "climb a tree", "skip stones",  "whistle",
                "jump rope", "fly a kite",  "dance",        "catch a ball", "do a cartwheel"};
    r.games = {"hide and seek", "tag", "catch", "leapfrog", "follow the leader"};
    r.daytimes = {"sunny morning",          "bright spring morning", "warm summer day",
                  "windy autumn afternoon", "fine spring day",       "lovely summer morning"};
    r.reach = {
        {"a big red apple at the top of a tall tree", "the apple"},
        {"a jar of honey on a high shelf", "the jar"},
        {"a shiny golden pear on a high branch", "the pear"},
        {"a kite stuck in the branches of a tall tree", "the kite"},
        {"a pretty blue feather caught on a high branch", "the feather"},
        {"a ball stuck on a high roof", "the ball"},
    };
    r.critters = {
        {"a baby bird", "the little bird"},    {"a tiny kitten", "the kitten"},
        {"a little duckling", "the duckling"}, {"a baby squirrel", "the baby squirrel"},
        {"a small lamb", "the lamb"},          {"a baby hedgehog", "the little hedgehog"},
    };
    r.generic_activities = {"sing happy songs", "watch the clouds float by", "play ball", "draw pictures"};
    r.openings = {
        "Once upon a time, there was a {hdesc} named {H}. {he} lived {where}.",
        "Once upon a time, {where}, there lived a {hdesc} named {H}.",
        "{where} lived a {hdesc} named {H}.",
        "There once was a {hdesc} called {H}, who lived {where}.",
        "Long ago, {where}, there lived a {hdesc}. {his} name was {H}.",
        "{H} was a {hdesc} who lived {where}.",
        "Far away, {where}, lived a {hdesc} named {H}.",
        "This is a story about a {hdesc} named {H}, who lived {where}.",
    };
    r.time_openings = {
        "One {daytime}, a {hdesc} named {H} was playing {where}.",
        "One {daytime}, {where}, a {hdesc} named {H} opened {his} eyes and smiled.",
        "It was a {daytime} {where}, and a {hdesc} named {H} was ready to play.",
    };
    r.likes = {
        "{he} loved to {act} there.",
        "Every day, {H} liked to {act} and {act2}.",
        "{his} favorite thing to do was to {act}.",
        "More than anything, {H} loved to {act}.",
        "{H} was happiest when {he} could {act} or {act2}.",
    };
    r.transitions = {"One day, ", "One morning, ", "One afternoon, ", "Then, one day, ", "One fine day, "};
    r.transitions_after_time = {"That day, ", "But that day, ", "Later that day, ", ""};
    r.transitions_night = {"That night, ", "One night, "};
    r.intros_early = {
        "{H}'s best friend was a {fdesc} named {F}.",
        "{H} had a good friend, a {fdesc} named {F}.",
        "{H} often played with {his} friend {F}, a {fdesc}.",
        "{H} had a best friend called {F}, who was a {fdesc}.",
    };
    r.intros_late_friend = {
        "Just then, {H}'s friend {Ft} came {fmove} by.",
        "At that moment, {H}'s friend {Ft} came {fmove} past.",
        "Luckily, {H}'s good friend {Ft} was nearby.",
    };
    r.intros_late_stranger = {
        "Just then, a {fdesc} named {F} came {fmove} by.",
        "At that moment, a {fdesc} named {F} came {fmove} over.",
        "Along came {F}, a {fdesc} who lived close by.",
        "A {fdesc} named {F} saw {H} and came {fmove} over.",
    };
    r.thanks = {
        "\"Thank you, {F}!\" said {H}. \"You are a good friend.\"",
        "{H} gave {F} a big hug. \"I could not have done it without you,\" {he} said.",
        "\"Thank you so much, {F},\" said {H} with a big smile.",
        "{H} thanked {F} again and again.",
        "{H} smiled at {F}. \"I am so glad you are my friend,\" {he} said.",
    };
    r.endings = {
        "After that, {H} and {F} did everything together.",
        "{H} felt warm and happy all the way down to {his} toes.",
        "{H} and {F} stayed the best of friends for a long, long time.",
    };
    r.endings_day = {
        "{H} and {F} played together until the sun went down.",
        "That evening, {H} went to bed with a happy heart.",
        "Then the two friends walked home side by side, tired and happy.",
        "It was a day that {H} would always remember.",
    };
    r.endings_night = {
        "Then {H} snuggled into bed and slept soundly until morning.",
        "That night, {H} had the sweetest dreams.",
        "{H} yawned a big yawn and soon fell fast asleep.",
    };
    r.moral_forms = {
        "From that day on, {H} knew that {moral}.",
        "{H} learned that {moral}.",
        "{H} learned an important lesson: {moral}.",
        "And so {H} and {F} learned that {moral}.",
        "{H} never forgot that {moral}.",
        "Now {H} knew that {moral}.",
    };
    return r;
  }();
  return g;
}

}  // namespace owl::train::story
