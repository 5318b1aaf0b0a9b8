/* xgb.h - the built-in evaluator of XGBoost's JSON model format
 *
 * What XGBoost's save_model("m.json") writes (the schema of its
 * doc/model.schema, versions 1.x and 2.x): a gbtree booster whose trees
 * are parallel arrays (left_children, right_children, split_indices,
 * split_conditions, default_left), tree_info giving each tree's class,
 * learner_model_param's base_score ("5E-1" in 1.x, "[5E-1]" in 2.x) and
 * the objective: reg:squarederror and the other identity regressions,
 * reg:logistic, binary:logistic, binary:logitraw, multi:softprob and
 * multi:softmax. Categorical splits, multi-target trees, dart and gblinear
 * are refused with a message.
 *
 * Predictions follow XGBoost's own arithmetic, so that they agree to the
 * last float32 bit: the feature as a float, "x < split" to go left and a
 * missing (NaN) feature to the node's default side, leaves summed in
 * float32 in tree order onto the base margin, then the objective's
 * transform (the sigmoid and softmax of XGBoost's common/math.h).
 */
#ifndef ES_XGB_H
#define ES_XGB_H

#include "model.h"

extern const struct model_backend xgb_backend;

#endif
