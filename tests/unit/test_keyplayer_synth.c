/*
 * tests/unit/test_keyplayer_synth.c - on a synthetic forum (fora synth) the
 * planted key players (status "moderator", api-docs/synth.md) rank at the
 * top of the composite rank and of in-degree, and random removal is visibly
 * weaker than targeted strategies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fora/centrality.h"
#include "fora/disruption.h"
#include "fora/keyplayer.h"
#include "fora/synth.h"
#include "fora_test.h"
#include "kp_bundle.h"
#include "kp_fixtures.h"

int main(void)
{
    kp_handlers();
    fora_diag_t d = FORA_DIAG_INIT;
    char dir[] = "/tmp/fora-kpsynth-XXXXXX";
    if (!mkdtemp(dir)) FORA_FAIL("mkdtemp");
    fora_synth_opts_t so;
    fora_synth_opts_default(&so);
    so.members = 4000;
    so.posts = 40000;
    so.key_players = 8;
    so.events_per_member = 0;
    so.quiet = true;
    so.seed = 3;
    ASSERT_OK(fora_synth_write(&so, dir, NULL, &d), &d);
    fora_snapshot_t *s = kp_load_bundle(dir);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);

    fora_centrality_opts_t co;
    fora_centrality_opts_init(&co);
    fora_centrality_t c;
    ASSERT_OK(fora_centrality_compute(s, &co, &c, &d), &d);
    fora_composite_t comp;
    ASSERT_OK(fora_composite_rank(&c, NULL, &comp, &d), &d);
    bool *kp = malloc(sizeof(bool) * (size_t)s->members.n);
    ASSERT_EQ(fora_staff_labels(s, "moderator", kp), 8);
    fora_validation_t v;
    ASSERT_OK(fora_validate_roles(&c, &comp, kp, 0, &v, &d), &d);
    fprintf(stderr,
            "network %d; composite AUC %.3f, %d of 8 in the top 8; in_degree AUC %.3f (%d); "
            "pagerank %.3f (%d); betweenness %.3f (%d)\n",
            c.n_network, v.composite.auc, v.composite.hits_k, v.metric[FORA_METRIC_IN_DEGREE].auc,
            v.metric[FORA_METRIC_IN_DEGREE].hits_k, v.metric[FORA_METRIC_PAGERANK].auc,
            v.metric[FORA_METRIC_PAGERANK].hits_k, v.metric[FORA_METRIC_BETWEENNESS].auc,
            v.metric[FORA_METRIC_BETWEENNESS].hits_k);
    int worst = 0;
    for (int32_t i = 0; i < s->members.n; i++)
        if (kp[i] && comp.rank[i] > worst) worst = comp.rank[i];
    fprintf(stderr, "worst composite rank of a key player: %d\n", worst);
    /* every planted key player is in the composite's top 20 of 4000 (0.5 %) */
    ASSERT(worst <= 20);
    ASSERT(v.composite.auc > 0.99);
    ASSERT(v.metric[FORA_METRIC_BETWEENNESS].hits_k >= 6);

    fora_netgraph_t ng;
    ASSERT_OK(fora_netgraph_build(s, &co.graph, &ng, &d), &d);
    fora_kpp_opts_t ko;
    fora_kpp_opts_init(&ko);
    fora_kpp_t kpp;
    ASSERT_OK(fora_kpp_neg(&ng, &ko, &kpp, &d), &d);
    fora_disruption_t dr;
    ASSERT_OK(fora_disruption_run(&ng, &c, &comp, &kpp, NULL, 0, NULL, &dr, &d), &d);
    double rnd = 0, rsd = 0;
    for (int i = 0; i < dr.n_curves; i++)
        if (dr.curves[i].strategy == FORA_STRATEGY_RANDOM) {
            rnd = dr.curves[i].robustness;
            rsd = dr.curves[i].robustness_sd;
        }
    for (int i = 0; i < dr.n_curves; i++) {
        fprintf(stderr, "R[%s] = %.4f\n", fora_strategy_name(dr.curves[i].strategy),
                dr.curves[i].robustness);
        if (dr.curves[i].strategy == FORA_STRATEGY_RANDOM ||
            dr.curves[i].strategy == FORA_STRATEGY_KPP_NEG)
            continue;
        ASSERT(dr.curves[i].robustness < rnd - 5 * rsd);
    }
    fora_disruption_destroy(&dr);
    fora_kpp_destroy(&kpp);
    fora_netgraph_destroy(&ng);
    free(kp);
    fora_composite_destroy(&comp);
    fora_centrality_destroy(&c);
    fora_snapshot_destroy(s);
    return 0;
}
