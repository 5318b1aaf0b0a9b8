/* tflite.h - TensorFlow Lite models through Arm NN (lib/tflite.cc)
 *
 * A backend of model.h in C++, linked by es-infer alone. model.c refers
 * to it weakly: a program linked without it knows XGBoost JSON only. */
#ifndef ES_TFLITE_H
#define ES_TFLITE_H

#include "model.h"

extern const struct model_backend tflite_backend;

#endif
