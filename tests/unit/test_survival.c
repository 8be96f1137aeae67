/*
 * tests/unit/test_survival.c - Kaplan-Meier curves, medians, horizons and
 * the log-rank test against the exact numbers of R's survival package 3.5
 * (survfit, summary.survfit, print.survfit's medians and survdiff; the
 * reference values below were printed by R with sprintf("%.17g")), plus the
 * edge cases: ties of events and censorings, events at time 0, heavy and
 * total censoring, empty input and groups, a singular variance matrix, bad
 * input, and a million observations.
 *
 * The data sets are R's `aml` (Maintained vs Nonmaintained: chi-square 3.4 on
 * 1 df, p = 0.065) and the fixtures in tests/data/survival/.
 */
#include <gsl/gsl_errno.h>
#include <stdint.h>
#include <time.h>

#include "fora/survival.h"
#include "fora_test.h"

#define TOL 1e-9
#define REF_MAX 24

/* A curve as R reports it: summary(fit, censored = TRUE) rows, survfit's
 * std.err (log scale) and summary(fit)$table's median, LCL, UCL.  NAN is R's
 * NA, NaN or Inf. */
typedef struct ref_curve {
    size_t nrows;
    double time[REF_MAX], n_risk[REF_MAX], n_event[REF_MAX], n_censor[REF_MAX];
    double surv[REF_MAX], std_err[REF_MAX], std_err_log[REF_MAX], lower[REF_MAX], upper[REF_MAX];
    double median[3];
} ref_curve_t;

/* survdiff: observed, expected, var (column-major as R stores it), chisq, p. */
typedef struct ref_logrank {
    size_t ngroups;
    double observed[4], expected[4], var[16];
    double chisq, p;
} ref_logrank_t;

/* ---- reference values printed by R (aml and tests/data/survival) ---- */

/* aml, x = Maintained: survfit(Surv(time, status) ~ x, aml)[1] */
static const ref_curve_t aml_maintained = {
    10,
    {9, 13, 18, 23, 28, 31, 34, 45, 48, 161},
    {11, 10, 8, 7, 6, 5, 4, 3, 2, 1},
    {1, 1, 1, 1, 0, 1, 1, 0, 1, 0},
    {0, 1, 0, 0, 1, 0, 0, 1, 0, 1},
    {0.90909090909090906, 0.81818181818181812, 0.71590909090909083, 0.61363636363636354,
     0.61363636363636354, 0.49090909090909085, 0.36818181818181817, 0.36818181818181817,
     0.18409090909090908, 0.18409090909090908},
    {0.08667841720414475, 0.11629129983033294, 0.13966497055722782, 0.152632331027312,
     0.152632331027312, 0.16419326722113581, 0.16266888582709479, 0.16266888582709479,
     0.15349274578629368, 0.15349274578629368},
    {0.095346258924559224, 0.14213381090374028, 0.19508757792120712, 0.2487341690815455,
     0.2487341690815455, 0.33446776656157295, 0.44181672693778834, 0.44181672693778834,
     0.83378775488850887, 0.83378775488850887},
    {0.75413384508152548, 0.61924898739936352, 0.48842628742212846, 0.37686705950167976,
     0.37686705950167976, 0.25485995119931731, 0.15487711789719105, 0.15487711789719105,
     0.035917898489185258, 0.035917898489185258},
    {1, 1, 1, 0.99915760022847266, 0.99915760022847266, 0.94558495520042918, 0.87526067814390762,
     0.87526067814390762, 0.94352576947455202, 0.94352576947455202},
    {31, 18, NAN}};

/* aml, x = Nonmaintained */
static const ref_curve_t aml_nonmaintained = {
    10,
    {5, 8, 12, 16, 23, 27, 30, 33, 43, 45},
    {12, 10, 8, 7, 6, 5, 4, 3, 2, 1},
    {2, 2, 1, 0, 1, 1, 1, 1, 1, 1},
    {0, 0, 0, 1, 0, 0, 0, 0, 0, 0},
    {0.83333333333333337, 0.66666666666666674, 0.58333333333333337, 0.58333333333333337,
     0.48611111111111116, 0.38888888888888895, 0.29166666666666674, 0.19444444444444448,
     0.097222222222222238, 0},
    {0.1075828707279838, 0.13608276348795437, 0.14231876063832777, 0.14231876063832777,
     0.14813006255348293, 0.14698618394803281, 0.13871516913498738, 0.12187450538044615,
     0.091866364967520514, NAN},
    {0.12909944487358055, 0.20412414523193151, 0.2439750182371333, 0.2439750182371333,
     0.30472470011002201, 0.3779644730092272, 0.47559486560567088, 0.62678317052800869,
     0.94491118252306805, NAN},
    {0.64703698701336165, 0.44684608115026392, 0.36161370521038472, 0.36161370521038472,
     0.26751824885826658, 0.18539652609555676, 0.1148311501524704, 0.056921552571604174,
     0.015256527170865199, NAN},
    {1, 0.99462536025909154, 0.9409980121738093, 0.9409980121738093, 0.88331922533955765,
     0.81573571569127235, 0.74082201851580376, 0.66422365988256338, 0.61954862911905562, NAN},
    {23, 8, NAN}};

/* aml: survfit(Surv(time, status) ~ 1, aml) */
static const ref_curve_t aml_all = {
    18,
    {5, 8, 9, 12, 13, 16, 18, 23, 27, 28, 30, 31, 33, 34, 43, 45, 48, 161},
    {23, 21, 19, 18, 17, 15, 14, 13, 11, 10, 9, 8, 7, 6, 5, 4, 2, 1},
    {2, 2, 1, 1, 1, 0, 1, 2, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0},
    {0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1},
    {0.91304347826086951, 0.82608695652173914, 0.78260869565217384, 0.73913043478260865,
     0.69565217391304346, 0.69565217391304346, 0.64596273291925466, 0.54658385093167705,
     0.49689440993788819, 0.49689440993788819, 0.4416839199447895, 0.38647342995169082,
     0.33126293995859213, 0.27605244996549344, 0.22084195997239475, 0.16563146997929606,
     0.082815734989648032, 0.082815734989648032},
    {0.058753384755841409, 0.079034196447511806, 0.086006148703798302, 0.091560537151700067,
     0.095943875542151391, 0.095943875542151391, 0.10114267517528461, 0.10725064174012229,
     0.10840178078868302, 0.10840178078868302, 0.10951806997765715, 0.10885880149486436,
     0.10639097288755056, 0.10198337609049186, 0.095367438486434419, 0.086035208408575106,
     0.072661800503528301, 0.072661800503528301},
    {0.064348945208778693, 0.095672974646987971, 0.1098967455659645, 0.12387602085230009,
     0.13791932109184263, 0.13791932109184263, 0.15657664137712329, 0.19621992409272374,
     0.21815858383722458, 0.21815858383722458, 0.24795575530878938, 0.28167214886796155,
     0.32116774940429327, 0.36943477988780676, 0.43183568239638587, 0.51943757076677222,
     0.87739124108010424, 0.87739124108010424},
    {0.80485479778295776, 0.68483946807189866, 0.63095791059958761, 0.57979921796803113,
     0.53087834162821212, 0.53087834162821212, 0.47525772470551447, 0.37207808724921121,
     0.32401654568981592, 0.32401654568981592, 0.27167599539229165, 0.22251529774688578,
     0.17652018258070468, 0.13382219562927281, 0.09473324056331256, 0.059840717810080948,
     0.014834608254847221, 0.014834608254847221},
    {1, 0.99646660502298201, 0.97070875920768129, 0.94224652723151947, 0.91156845010048149,
     0.91156845010048149, 0.87798226231686283, 0.80293335280236955, 0.76201063776504074,
     0.76201063776504074, 0.71807847747497544, 0.67124244297363078, 0.62165772653129403,
     0.56944929631151486, 0.51482637978433587, 0.458446770885507, 0.46232740656529359,
     0.46232740656529359},
    {27, 18, 45}};

/* aml, conf.int = 0.9 */
static const ref_curve_t aml_all_90 = {
    18,
    {5, 8, 9, 12, 13, 16, 18, 23, 27, 28, 30, 31, 33, 34, 43, 45, 48, 161},
    {23, 21, 19, 18, 17, 15, 14, 13, 11, 10, 9, 8, 7, 6, 5, 4, 2, 1},
    {2, 2, 1, 1, 1, 0, 1, 2, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0},
    {0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1},
    {0.91304347826086951, 0.82608695652173914, 0.78260869565217384, 0.73913043478260865,
     0.69565217391304346, 0.69565217391304346, 0.64596273291925466, 0.54658385093167705,
     0.49689440993788819, 0.49689440993788819, 0.4416839199447895, 0.38647342995169082,
     0.33126293995859213, 0.27605244996549344, 0.22084195997239475, 0.16563146997929606,
     0.082815734989648032, 0.082815734989648032},
    {0.058753384755841409, 0.079034196447511806, 0.086006148703798302, 0.091560537151700067,
     0.095943875542151391, 0.095943875542151391, 0.10114267517528461, 0.10725064174012229,
     0.10840178078868302, 0.10840178078868302, 0.10951806997765715, 0.10885880149486436,
     0.10639097288755056, 0.10198337609049186, 0.095367438486434419, 0.086035208408575106,
     0.072661800503528301, 0.072661800503528301},
    {0.064348945208778693, 0.095672974646987971, 0.1098967455659645, 0.12387602085230009,
     0.13791932109184263, 0.13791932109184263, 0.15657664137712329, 0.19621992409272374,
     0.21815858383722458, 0.21815858383722458, 0.24795575530878938, 0.28167214886796155,
     0.32116774940429327, 0.36943477988780676, 0.43183568239638587, 0.51943757076677222,
     0.87739124108010424, 0.87739124108010424},
    {0.82134143900846657, 0.70580006467169731, 0.6531904629044698, 0.60287898292423436,
     0.55445890363414851, 0.55445890363414851, 0.49929452728629664, 0.3958101490292299,
     0.34707420723837168, 0.34707420723837168, 0.29375426648936803, 0.24316826802638408,
     0.19531985622547721, 0.15034381122738921, 0.10854239608854069, 0.070482643481258489,
     0.019559046467194096, 0.019559046467194096},
    {1, 0.9668738979965622, 0.9376688811207774, 0.90617489595019607, 0.87280038952942596,
     0.87280038952942596, 0.83571485269104506, 0.75479091890905325, 0.71138692959096095,
     0.71138692959096095, 0.66410843140845421, 0.61423191961221901, 0.56182273277598338,
     0.50687124737508626, 0.44932830895556197, 0.38922751038412984, 0.35065339066396278,
     0.35065339066396278},
    {27, 18, 43}};

/* tests/data/survival/ties.csv, group 1 */
static const ref_curve_t ties_1 = {
    7,
    {0, 1, 2, 3, 4, 5, 7},
    {11, 9, 6, 5, 4, 3, 2},
    {1, 2, 0, 1, 1, 0, 1},
    {1, 1, 1, 0, 0, 1, 1},
    {0.90909090909090906, 0.70707070707070707, 0.70707070707070707, 0.56565656565656564,
     0.4242424242424242, 0.4242424242424242, 0.2121212121212121},
    {0.08667841720414475, 0.14288592342726733, 0.14288592342726733, 0.17048417893242551,
     0.17705211275553076, 0.17705211275553076, 0.17416821459062334},
    {0.095346258924559224, 0.20208152027570664, 0.20208152027570664, 0.30139167346982371,
     0.41733712292375114, 0.41733712292375114, 0.82107872592722442},
    {0.75413384508152548, 0.47582882071954086, 0.47582882071954086, 0.31333418176145106,
     0.18723028256299915, 0.18723028256299915, 0.042430741516016744},
    {1, 1, 1, 1, 0.96128485233967909, 0.96128485233967909, 1},
    {4, 1, NAN}};

/* tests/data/survival/ties.csv, group 2 */
static const ref_curve_t ties_2 = {
    7,
    {0, 1, 2, 3, 5, 7, 9},
    {10, 9, 7, 6, 3, 2, 1},
    {1, 1, 0, 2, 1, 1, 0},
    {0, 1, 1, 1, 0, 0, 1},
    {0.90000000000000002, 0.79999999999999993, 0.79999999999999993, 0.53333333333333321,
     0.35555555555555546, 0.17777777777777773, 0.17777777777777773},
    {0.094868329805051374, 0.12649110640673517, 0.12649110640673517, 0.17554149029450217,
     0.18645490634136025, 0.15650503877030225, 0.15650503877030225},
    {0.10540925533894598, 0.15811388300841897, 0.15811388300841897, 0.32914029430219166,
     0.52440442408507582, 0.88034084308295046, 0.88034084308295046},
    {0.73201164274399266, 0.5868177012338136, 0.5868177012338136, 0.27979116815031224,
     0.127213620797099, 0.031661390850442159, 0.031661390850442159},
    {1, 1, 1, 1, 0.99375956988170755, 0.99821698992618824, 0.99821698992618824},
    {5, 3, NAN}};

/* tests/data/survival/ties.csv, group 10 */
static const ref_curve_t ties_10 = {
    5,
    {2, 3, 5, 8, 9},
    {6, 5, 4, 2, 1},
    {1, 0, 1, 1, 1},
    {0, 1, 1, 0, 0},
    {0.83333333333333337, 0.83333333333333337, 0.625, 0.3125, 0},
    {0.15214515486254615, 0.15214515486254615, 0.21347814095749162, 0.24540039561228638, NAN},
    {0.18257418583505536, 0.18257418583505536, 0.34156502553198659, 0.78528126595931647, NAN},
    {0.58265479547713961, 0.58265479547713961, 0.31999216186285406, 0.067052873853719372, NAN},
    {1, 1, 1, 1, NAN},
    {8, 5, NAN}};

/* tests/data/survival/censored.csv, group none */
static const ref_curve_t censored_none = {5,
                                          {3, 5, 8, 12, 20},
                                          {6, 5, 4, 3, 1},
                                          {0, 0, 0, 0, 0},
                                          {1, 1, 1, 2, 1},
                                          {1, 1, 1, 1, 1},
                                          {0, 0, 0, 0, 0},
                                          {0, 0, 0, 0, 0},
                                          {1, 1, 1, 1, 1},
                                          {1, 1, 1, 1, 1},
                                          {NAN, NAN, NAN}};

/* tests/data/survival/censored.csv, group some */
static const ref_curve_t censored_some = {
    9,
    {2, 4, 6, 9, 10, 12, 15, 18, 25},
    {9, 8, 7, 6, 5, 4, 3, 2, 1},
    {1, 0, 1, 0, 0, 1, 0, 0, 0},
    {0, 1, 0, 1, 1, 0, 1, 1, 1},
    {0.88888888888888884, 0.88888888888888884, 0.76190476190476186, 0.76190476190476186,
     0.76190476190476186, 0.5714285714285714, 0.5714285714285714, 0.5714285714285714,
     0.5714285714285714},
    {0.10475656017578482, 0.10475656017578482, 0.14793203111383299, 0.14793203111383299,
     0.14793203111383299, 0.1987978121932307, 0.1987978121932307, 0.1987978121932307,
     0.1987978121932307},
    {0.11785113019775792, 0.11785113019775792, 0.19416079083690582, 0.19416079083690582,
     0.19416079083690582, 0.34789617133815376, 0.34789617133815376, 0.34789617133815376,
     0.34789617133815376},
    {0.70555750151594321, 0.70555750151594321, 0.52075173207323822, 0.52075173207323822,
     0.52075173207323822, 0.28895631712307007, 0.28895631712307007, 0.28895631712307007,
     0.28895631712307007},
    {1, 1, 1, 1, 1, 1, 1, 1, 1},
    {NAN, 12, NAN}};

/* tests/data/survival/timefix.csv, group a */
static const ref_curve_t timefix_a = {5,
                                      {0, 0.10000000000000001, 0.29999999999999999, 1, 2},
                                      {5, 4, 3, 2, 1},
                                      {0, 0, 1, 1, 1},
                                      {1, 1, 0, 0, 0},
                                      {1, 1, 0.66666666666666663, 0.33333333333333331, 0},
                                      {0, 0, 0.27216552697590868, 0.27216552697590868, NAN},
                                      {0, 0, 0.40824829046386302, 0.81649658092772603, NAN},
                                      {1, 1, 0.29950713035902232, 0.067278390851922276, NAN},
                                      {1, 1, 1, 1, NAN},
                                      {1, 0.29999999999999999, NAN}};

/* tests/data/survival/timefix.csv, group b */
static const ref_curve_t timefix_b = {
    4,
    {0, 0.29999999999999999, 1, 2},
    {4, 3, 2, 1},
    {1, 1, 0, 1},
    {0, 0, 1, 0},
    {0.75, 0.5, 0.5, 0},
    {0.21650635094610965, 0.25, 0.25, NAN},
    {0.28867513459481287, 0.5, 0.5, NAN},
    {0.42593226849798205, 0.18765892870658832, 0.18765892870658832, NAN},
    {1, 1, 1, NAN},
    {1.1499999999999999, 0, NAN}};

/* tests/data/survival/halfway.csv */
static const ref_curve_t halfway_all = {
    5,
    {1, 2, 3, 4, 6},
    {6, 4, 3, 2, 1},
    {2, 1, 0, 1, 0},
    {0, 0, 1, 0, 1},
    {0.66666666666666663, 0.5, 0.5, 0.25, 0.25},
    {0.19245008972987523, 0.20412414523193151, 0.20412414523193151, 0.20412414523193151,
     0.20412414523193151},
    {0.28867513459481287, 0.40824829046386302, 0.40824829046386302, 0.81649658092772603,
     0.81649658092772603},
    {0.3786064608870951, 0.22463034776926674, 0.22463034776926674, 0.050458793138941714,
     0.050458793138941714},
    {1, 1, 1, 1, 1},
    {3, 1, NAN}};

/* survdiff(Surv(time, event) ~ group), tests/data/survival/aml.csv */
static const ref_logrank_t aml_lr = {
    2,
    {7, 11},
    {10.689335992300725, 7.3106640076992759},
    {4.0075507459387349, -4.0075507459387341, -4.0075507459387349, 4.0075507459387332},
    3.3963886989776011,
    0.065339322040505132};

/* survdiff(Surv(time, event) ~ group), tests/data/survival/ties.csv */
static const ref_logrank_t ties_lr = {3,
                                      {6, 6, 4},
                                      {4.8234073188020563, 5.7318890660995923, 5.4447036150983514},
                                      {2.8412197209766359, -1.5333487552949419, -1.3078709656816945,
                                       -1.5333487552949416, 3.3319580469685763, -1.7986092916736343,
                                       -1.3078709656816945, -1.7986092916736343,
                                       3.1064802573553285},
                                      0.81289826178547153,
                                      0.66601097413805521};

/* survdiff(Surv(time, event) ~ group), tests/data/survival/censored.csv */
static const ref_logrank_t censored_lr = {
    2,
    {0, 3},
    {1.192207792207792, 1.807792207792208},
    {0.71630291786135936, -0.71630291786135947, -0.71630291786135936, 0.71630291786135947},
    1.9842993576581831,
    0.15893821015013726};

/* survdiff(Surv(time, event) ~ group), tests/data/survival/timefix.csv */
static const ref_logrank_t timefix_lr = {
    2,
    {3, 3},
    {3.0555555555555554, 2.9444444444444446},
    {0.89691358024691348, -0.8969135802469137, -0.8969135802469137, 0.89691358024691348},
    0.0034411562284927494,
    0.95322182928987964};

/* summary(survfit(Surv(time, status) ~ 1, aml), times = c(0, 5, 30, 200), extend = TRUE) */
static const double aml_hz_time[4] = {0, 5, 30, 200};
static const double aml_hz_n_risk[4] = {23, 23, 9, 0};
static const double aml_hz_surv[4] = {1, 0.91304347826086951, 0.4416839199447895,
                                      0.082815734989648032};
static const double aml_hz_std_err[4] = {0, 0.058753384755841409, 0.10951806997765715,
                                         0.072661800503528301};
static const double aml_hz_lower[4] = {1, 0.80485479778295776, 0.27167599539229165,
                                       0.014834608254847221};
static const double aml_hz_upper[4] = {1, 1, 0.71807847747497544, 0.46232740656529359};

/* ---- the data ---------------------------------------------------------- */

/* survival::aml; group 0 = Maintained, 1 = Nonmaintained */
static const double aml_time[] = {9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5,
                                  5, 8,  8,  12, 16, 23, 27, 30, 33, 43, 45};
static const uint8_t aml_event[] = {1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1,
                                    1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1};
static const int32_t aml_group[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                                    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
#define AML_N (sizeof(aml_time) / sizeof(aml_time[0]))

/* tests/data/survival/ties.csv; groups 1, 2, 10 */
static const double ties_time[] = {0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3,
                                   3, 3, 4, 5, 5, 5, 5, 7, 7, 7, 8, 9, 9};
static const uint8_t ties_event[] = {1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1,
                                     0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1};
static const int32_t ties_group[] = {0, 0, 1, 0, 0, 0, 1, 1, 0, 1, 2, 0, 1, 1,
                                     1, 2, 0, 0, 1, 2, 2, 1, 0, 0, 2, 1, 2};

/* tests/data/survival/censored.csv; groups none, some */
static const double censored_time[] = {3, 5, 8, 12, 12, 20, 2, 4, 6, 9, 10, 12, 15, 18, 25};
static const uint8_t censored_event[] = {0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0};
static const int32_t censored_group[] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1};

/* tests/data/survival/timefix.csv; groups a, b */
static const double timefix_time[] = {0.3, 0.30000000000000004, 0.1, 1e-9, 0,
                                      1,   1.0000000001,        2,   2};
static const uint8_t timefix_event[] = {1, 1, 0, 1, 0, 1, 0, 1, 1};
static const int32_t timefix_group[] = {0, 1, 0, 1, 0, 0, 1, 1, 0};

/* tests/data/survival/halfway.csv: S is exactly 1/2 from time 2 to 4 */
static const double halfway_time[] = {1, 1, 2, 3, 4, 6};
static const uint8_t halfway_event[] = {1, 1, 1, 0, 1, 0};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ----------------------------------------------------------- */

static fora_survival_t *compute(const double *t, const uint8_t *e, const int32_t *g, size_t n,
                                size_t ngroups, const fora_survival_opts_t *o)
{
    fora_survival_t *s = NULL;
    fora_diag_t diag = FORA_DIAG_INIT;
    ASSERT_OK(fora_survival_compute(t, e, g, n, ngroups, o, &s, &diag), &diag);
    ASSERT(s != NULL);
    return s;
}

/* a value that may be undefined (NAN in the reference) */
static void check_opt(bool defined, double got, double want, const char *what, size_t row)
{
    if (isnan(want)) {
        if (defined) FORA_FAIL("%s[%zu]: defined (%.17g) where R has NA", what, row, got);
        if (!isnan(got)) FORA_FAIL("%s[%zu]: undefined but not NAN", what, row);
        return;
    }
    if (!defined) FORA_FAIL("%s[%zu]: undefined where R has %.17g", what, row, want);
    double s = fabs(want) > 1.0 ? fabs(want) : 1.0;
    if (!(fabs(got - want) <= TOL * s))
        FORA_FAIL("%s[%zu]: %.17g vs R %.17g", what, row, got, want);
}

static void check_curve(const fora_survival_curve_t *c, const ref_curve_t *r)
{
    ASSERT_EQ(c->nrows, r->nrows);
    int64_t n_event = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        const fora_survival_row_t *w = &c->rows[i];
        ASSERT_NEAR(w->time, r->time[i], TOL);
        ASSERT_EQ(w->n_risk, (int64_t)r->n_risk[i]);
        ASSERT_EQ(w->n_event, (int64_t)r->n_event[i]);
        ASSERT_EQ(w->n_censor, (int64_t)r->n_censor[i]);
        ASSERT_NEAR(w->surv, r->surv[i], TOL);
        ASSERT_NEAR(w->cum_event, 1.0 - r->surv[i], TOL);
        check_opt(w->se_defined, w->std_err, r->std_err[i], "std_err", i);
        check_opt(w->se_defined, w->std_err_log, r->std_err_log[i], "std_err_log", i);
        check_opt(w->se_defined, w->lower, r->lower[i], "lower", i);
        check_opt(w->se_defined, w->upper, r->upper[i], "upper", i);
        n_event += w->n_event;
    }
    ASSERT_EQ(n_event, c->events);
    check_opt(c->median.reached, c->median.time, r->median[0], "median", 0);
    check_opt(c->median.lower_reached, c->median.lower, r->median[1], "median lower", 0);
    check_opt(c->median.upper_reached, c->median.upper, r->median[2], "median upper", 0);
}

static void check_logrank(const fora_survival_logrank_t *lr, const ref_logrank_t *r)
{
    size_t G = r->ngroups;
    ASSERT(lr != NULL);
    ASSERT_EQ(lr->ngroups, G);
    for (size_t i = 0; i < G; i++) {
        ASSERT_NEAR(lr->observed[i], r->observed[i], TOL);
        ASSERT_NEAR(lr->expected[i], r->expected[i], TOL);
        for (size_t j = 0; j < G; j++)
            ASSERT_NEAR(lr->variance[i * G + j], r->var[j * G + i], TOL);
    }
    ASSERT_NEAR(lr->chisq, r->chisq, TOL);
    ASSERT(lr->p_defined);
    ASSERT_NEAR(lr->p, r->p, TOL);
    ASSERT_EQ(lr->df, (int)G - 1);
    ASSERT(!lr->generalised);
}

/* ---- the cases --------------------------------------------------------- */

static void test_aml(void)
{
    fora_survival_opts_t o;
    fora_survival_opts_init(&o);
    double hz[] = {200, 0, 5, 30}; /* out of order on purpose */
    o.horizons = hz;
    o.nhorizons = 4;
    fora_survival_t *s = compute(aml_time, aml_event, aml_group, AML_N, 2, &o);
    ASSERT_EQ(s->ngroups, 2);
    ASSERT_EQ(s->all.n, 23);
    ASSERT_EQ(s->all.events, 18);
    ASSERT_EQ(s->groups[0].n, 11);
    ASSERT_EQ(s->groups[1].n, 12);
    check_curve(&s->all, &aml_all);
    check_curve(&s->groups[0], &aml_maintained);
    check_curve(&s->groups[1], &aml_nonmaintained);
    check_logrank(s->logrank, &aml_lr);
    /* the published summary: chi-square 3.4 on 1 df, p = 0.07 */
    ASSERT_NEAR(s->logrank->chisq, 3.4, 0.05);
    ASSERT_NEAR(s->logrank->p, 0.07, 0.005);

    static const size_t at[] = {3, 0, 1, 2}; /* hz[k] is aml_hz_*[at[k]] */
    for (size_t k = 0; k < 4; k++) {
        const fora_survival_point_t *p = &s->all.horizons[k];
        size_t r = at[k];
        ASSERT_NEAR(p->time, aml_hz_time[r], 0);
        ASSERT_EQ(p->n_risk, (int64_t)aml_hz_n_risk[r]);
        ASSERT_NEAR(p->surv, aml_hz_surv[r], TOL);
        ASSERT_NEAR(p->cum_event, 1.0 - aml_hz_surv[r], TOL);
        check_opt(p->se_defined, p->std_err, aml_hz_std_err[r], "hz std_err", k);
        check_opt(p->se_defined, p->lower, aml_hz_lower[r], "hz lower", k);
        check_opt(p->se_defined, p->upper, aml_hz_upper[r], "hz upper", k);
        ASSERT_EQ(p->beyond_last, hz[k] > 161);
    }
    /* Nonmaintained ends at S = 0: its horizon 200 has no interval */
    ASSERT(s->groups[1].horizons[0].surv == 0.0);
    ASSERT(!s->groups[1].horizons[0].se_defined);
    ASSERT(s->groups[1].horizons[0].beyond_last);
    fora_survival_destroy(s);

    /* conf.int = 0.9 */
    o.conf = 0.9;
    o.nhorizons = 0;
    s = compute(aml_time, aml_event, NULL, AML_N, 0, &o);
    ASSERT(s->groups == NULL && s->logrank == NULL);
    check_curve(&s->all, &aml_all_90);
    fora_survival_destroy(s);
}

static void test_ties_and_time_zero(void)
{
    fora_survival_t *s = compute(ties_time, ties_event, ties_group, N_OF(ties_time), 3, NULL);
    check_curve(&s->groups[0], &ties_1);
    check_curve(&s->groups[1], &ties_2);
    check_curve(&s->groups[2], &ties_10);
    check_logrank(s->logrank, &ties_lr);
    /* the overall curve: time 0 has 2 events and 1 censoring, all 27 at risk */
    ASSERT_EQ(s->all.rows[0].n_risk, 27);
    ASSERT_EQ(s->all.rows[0].n_event, 2);
    ASSERT_EQ(s->all.rows[0].n_censor, 1);
    ASSERT_NEAR(s->all.rows[0].surv, 25.0 / 27.0, 1e-15);
    ASSERT_EQ(s->all.nrows, 9); /* times 0..5, 7, 8, 9 */
    fora_survival_destroy(s);
}

static void test_heavy_censoring(void)
{
    fora_survival_opts_t o;
    fora_survival_opts_init(&o);
    double hz[] = {0, 30};
    o.horizons = hz;
    o.nhorizons = 2;
    fora_survival_t *s =
        compute(censored_time, censored_event, censored_group, N_OF(censored_time), 2, &o);
    check_curve(&s->groups[0], &censored_none);
    check_curve(&s->groups[1], &censored_some);
    check_logrank(s->logrank, &censored_lr);
    /* all censored: S stays 1, the median is never reached */
    const fora_survival_curve_t *none = &s->groups[0];
    ASSERT(!none->median.reached && !none->median.lower_reached && !none->median.upper_reached);
    ASSERT(isnan(none->median.time));
    ASSERT_EQ(none->events, 0);
    ASSERT(none->horizons[1].surv == 1.0 && none->horizons[1].n_risk == 0);
    ASSERT(none->horizons[1].beyond_last);
    ASSERT(s->groups[1].horizons[0].surv == 1.0 && s->groups[1].horizons[0].n_risk == 9);
    fora_survival_destroy(s);

    /* the 6 of group "none" alone: no events anywhere, curves flat at 1, and
     * the test undefined (R: p = NaN) */
    s = compute(censored_time, censored_event, censored_group, 6, 2, NULL);
    ASSERT_EQ(s->all.events, 0);
    ASSERT(s->logrank != NULL && !s->logrank->p_defined && s->logrank->df == 0);
    ASSERT(s->logrank->chisq == 0.0);
    for (size_t i = 0; i < s->all.nrows; i++)
        ASSERT(s->all.rows[i].surv == 1.0 && s->all.rows[i].se_defined);
    fora_survival_destroy(s);
}

static void test_timefix(void)
{
    fora_survival_t *s =
        compute(timefix_time, timefix_event, timefix_group, N_OF(timefix_time), 2, NULL);
    check_curve(&s->groups[0], &timefix_a);
    check_curve(&s->groups[1], &timefix_b);
    check_logrank(s->logrank, &timefix_lr);
    /* 0 and 1e-9 merged, 0.3 and 0.30000000000000004 merged, 1 and 1.0000000001 merged */
    ASSERT_EQ(s->all.nrows, 5);
    ASSERT(s->groups[1].rows[0].time == 0.0);
    ASSERT(s->groups[1].rows[2].time == 1.0);
    /* S = 1/2 exactly from 0.3 to 2 in group b: the midpoint rule */
    ASSERT_NEAR(s->groups[1].median.time, 1.15, 1e-12);
    fora_survival_destroy(s);

    fora_survival_opts_t o;
    fora_survival_opts_init(&o);
    o.timefix = false;
    s = compute(timefix_time, timefix_event, timefix_group, N_OF(timefix_time), 2, &o);
    ASSERT_EQ(s->all.nrows, 8);
    fora_survival_destroy(s);
}

static void test_median_midpoint(void)
{
    fora_survival_t *s = compute(halfway_time, halfway_event, NULL, N_OF(halfway_time), 0, NULL);
    check_curve(&s->all, &halfway_all);
    /* S = 1/2 at 2, still 1/2 at the censoring at 3, drops at 4: (2 + 4) / 2 */
    ASSERT(s->all.median.reached && s->all.median.time == 3.0);
    fora_survival_destroy(s);
}

static void test_empty(void)
{
    fora_survival_opts_t o;
    fora_survival_opts_init(&o);
    double hz[] = {0, 10};
    o.horizons = hz;
    o.nhorizons = 2;
    fora_survival_t *s = compute(NULL, NULL, NULL, 0, 0, &o);
    ASSERT_EQ(s->all.n, 0);
    ASSERT_EQ(s->all.nrows, 0);
    ASSERT(!s->all.median.reached);
    ASSERT(s->all.horizons[1].surv == 1.0 && s->all.horizons[1].n_risk == 0);
    ASSERT(s->all.horizons[1].beyond_last);
    fora_survival_destroy(s);

    /* no observations but two groups: empty curves, an undefined test */
    s = compute(NULL, NULL, NULL, 0, 2, NULL);
    ASSERT(s->groups[0].nrows == 0 && s->groups[1].nrows == 0);
    ASSERT(s->logrank != NULL && !s->logrank->p_defined);
    fora_survival_destroy(s);
}

static void test_empty_group(void)
{
    /* aml with the groups numbered 0 and 2: group 1 has no members and takes
     * no part in the test, which is then aml's */
    int32_t g[AML_N];
    for (size_t i = 0; i < AML_N; i++)
        g[i] = aml_group[i] * 2;
    fora_survival_t *s = compute(aml_time, aml_event, g, AML_N, 3, NULL);
    ASSERT_EQ(s->groups[1].n, 0);
    ASSERT_EQ(s->groups[1].nrows, 0);
    ASSERT(!s->groups[1].median.reached);
    check_curve(&s->groups[0], &aml_maintained);
    check_curve(&s->groups[2], &aml_nonmaintained);
    const fora_survival_logrank_t *lr = s->logrank;
    ASSERT(lr->expected[1] == 0.0 && lr->observed[1] == 0.0 && lr->n[1] == 0);
    ASSERT_EQ(lr->df, 1);
    ASSERT_NEAR(lr->chisq, aml_lr.chisq, TOL);
    ASSERT_NEAR(lr->p, aml_lr.p, TOL);
    fora_survival_destroy(s);

    /* only group 0 is at risk at an event time: R's chi-square 0 on 0 df, p = 1 */
    static const double t[] = {1, 2, 0.5};
    static const uint8_t e[] = {1, 1, 0};
    static const int32_t gg[] = {0, 0, 1};
    s = compute(t, e, gg, 3, 2, NULL);
    ASSERT(s->logrank->p_defined && s->logrank->df == 0 && s->logrank->p == 1.0);
    ASSERT(s->logrank->chisq == 0.0 && s->logrank->expected[1] == 0.0);
    fora_survival_destroy(s);
}

static void test_singular_variance(void)
{
    /* one event per group at the same time and nobody else: V = 0 */
    static const double t[] = {1, 1};
    static const uint8_t e[] = {1, 1};
    static const int32_t g[] = {0, 1};
    fora_survival_t *s = compute(t, e, g, 2, 2, NULL);
    const fora_survival_logrank_t *lr = s->logrank;
    ASSERT(lr->generalised);
    ASSERT(lr->chisq == 0.0 && lr->df == 0 && lr->p == 1.0 && lr->p_defined);
    ASSERT(s->all.rows[0].surv == 0.0 && !s->all.rows[0].se_defined);
    fora_survival_destroy(s);
}

static void test_bad_input(void)
{
    fora_survival_t *s = NULL;
    fora_diag_t diag = FORA_DIAG_INIT;
    double t[] = {1, -2};
    uint8_t e[] = {1, 0};
    int32_t g[] = {0, 0};
    ASSERT_EQ(fora_survival_compute(t, e, NULL, 2, 0, NULL, &s, &diag), FORA_EINVAL);
    ASSERT(strstr(diag.msg, "observation 1") != NULL);
    ASSERT(s == NULL);
    t[1] = NAN;
    fora_diag_clear(&diag);
    ASSERT_EQ(fora_survival_compute(t, e, NULL, 2, 0, NULL, &s, &diag), FORA_EINVAL);
    t[1] = 2;
    e[0] = 2;
    fora_diag_clear(&diag);
    ASSERT_EQ(fora_survival_compute(t, e, NULL, 2, 0, NULL, &s, &diag), FORA_EINVAL);
    ASSERT(strstr(diag.msg, "event") != NULL);
    e[0] = 1;
    g[1] = 1;
    fora_diag_clear(&diag);
    ASSERT_EQ(fora_survival_compute(t, e, g, 2, 1, NULL, &s, &diag), FORA_EINVAL);
    fora_diag_clear(&diag);
    ASSERT_EQ(fora_survival_compute(t, e, g, 2, 0, NULL, &s, &diag), FORA_EINVAL);
    fora_survival_opts_t o;
    fora_survival_opts_init(&o);
    o.conf = 1.0;
    fora_diag_clear(&diag);
    ASSERT_EQ(fora_survival_compute(t, e, NULL, 2, 0, &o, &s, &diag), FORA_EINVAL);
    fora_survival_opts_init(&o);
    double hz[] = {-1};
    o.horizons = hz;
    o.nhorizons = 1;
    fora_diag_clear(&diag);
    ASSERT_EQ(fora_survival_compute(t, e, NULL, 2, 0, &o, &s, &diag), FORA_EINVAL);
    ASSERT(s == NULL);
}

/* A million observations in 3 groups, integer and continuous times. */
static void test_million(void)
{
    const size_t n = 1000000;
    double *t = malloc(n * sizeof(*t));
    uint8_t *e = malloc(n);
    int32_t *g = malloc(n * sizeof(*g));
    ASSERT(t && e && g);
    uint64_t x = 88172645463325252ULL;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
            double u = (double)(x >> 11) / 9007199254740992.0;
            g[i] = (int32_t)(x % 3);
            double life = -log1p(-u) * (100.0 + 50.0 * g[i]);
            e[i] = (x >> 3) % 10 < 4; /* 60% censored */
            t[i] = pass == 0 ? floor(life) : life;
        }
        clock_t c0 = clock();
        fora_survival_t *s = compute(t, e, g, n, 3, NULL);
        double secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
        fprintf(stderr, "   %zu observations, %zu distinct times: %.2f s\n", n, s->all.nrows, secs);
        int64_t events = 0, gn = 0;
        for (size_t i = 0; i < s->all.nrows; i++) {
            const fora_survival_row_t *r = &s->all.rows[i];
            events += r->n_event;
            if (i > 0) {
                ASSERT(r->time > s->all.rows[i - 1].time);
                ASSERT(r->surv <= s->all.rows[i - 1].surv);
                ASSERT_EQ(r->n_risk, s->all.rows[i - 1].n_risk - s->all.rows[i - 1].n_event -
                                         s->all.rows[i - 1].n_censor);
            }
        }
        ASSERT_EQ(events, s->all.events);
        for (size_t k = 0; k < 3; k++)
            gn += s->groups[k].n;
        ASSERT_EQ(gn, (int64_t)n);
        /* different hazards by construction: a huge chi-square */
        ASSERT(s->logrank->chisq > 1000.0 && s->logrank->df == 2);
        ASSERT(s->all.median.reached);
        fora_survival_destroy(s);
    }
    free(t);
    free(e);
    free(g);
}

int main(void)
{
    gsl_set_error_handler_off(); /* as server/main.c does */
    FORA_RUN(test_aml);
    FORA_RUN(test_ties_and_time_zero);
    FORA_RUN(test_heavy_censoring);
    FORA_RUN(test_timefix);
    FORA_RUN(test_median_midpoint);
    FORA_RUN(test_empty);
    FORA_RUN(test_empty_group);
    FORA_RUN(test_singular_variance);
    FORA_RUN(test_bad_input);
    FORA_RUN(test_million);
    return 0;
}
