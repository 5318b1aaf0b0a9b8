// tflite.cc - TensorFlow Lite models through Arm NN (es-infer's second backend)
//
// A C++ shim behind model.h's C interface (extern "C"): Arm NN 20.08's
// TfLiteParser turns the file into a network, optimised for the CpuAcc
// (NEON, on ARM) or the CpuRef backend, loaded once; predicting copies the
// feature vector in and the outputs out. Every C++ exception is caught
// here and becomes the loader's message, so none crosses into C. Only
// es-infer links it (with -larmnn -larmnnTfLiteParser and libstdc++).
//
// Taken: float32 models of one input of shape [1, N] (N features), or
// [1, T, F] (a window of T readings of F features, es-infer --sequence),
// and one output [1, M]; M = 1 is a score, M > 1 class probabilities. No
// missing values (a missing feature needs --fill).
#include <armnn/ArmNN.hpp>
#include <armnn/LayerVisitorBase.hpp>
#include <armnnTfLiteParser/ITfLiteParser.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

extern "C" {
#include "model.h"
#include "tflite.h"
}

namespace {

struct net {
	armnn::IRuntimePtr runtime{nullptr, &armnn::IRuntime::Destroy};
	armnn::NetworkId id = 0;
	armnn::BindingPointInfo in, out;
};

// The number of values of a float32 [1, N] tensor (or, if rank3, of a
// [1, T, F] one: *steps = T), or 0 when it is not one of those.
unsigned int flat_size(const armnn::TensorInfo &t, bool rank3, unsigned int *steps)
{
	const armnn::TensorShape &s = t.GetShape();
	unsigned int rank = s.GetNumDimensions();
	if (t.GetDataType() != armnn::DataType::Float32 || rank < 2 || rank > 3 ||
	    s[0] != 1 || s[1] > (1u << 24))
		return 0;
	if (rank == 2)
		return s[1];
	if (!rank3 || !s[1] || s[2] > (1u << 24) / s[1])
		return 0;
	*steps = s[1];
	return s[1] * s[2];
}

// Arm NN 20.08 takes a fully connected layer whose input has other sizes
// than its weights and bias say, and then reads past them when it runs:
// the fuzz target found a changed byte that makes a [1, 3] input [1, 1027]
// (tests/fuzz/regress/tflite/crash-a7e8...). The bytes read there may stay
// the same from run to run, so no test of the outputs sees it; the sizes
// are checked here, on the parsed network, before it is optimised.
struct fc_check : public armnn::LayerVisitorBase<armnn::VisitorNoThrowPolicy> {
	std::string why;
	void VisitFullyConnectedLayer(const armnn::IConnectableLayer *layer,
				      const armnn::FullyConnectedDescriptor &d,
				      const armnn::ConstTensor &w,
				      const armnn::Optional<armnn::ConstTensor> &b,
				      const char *) override
	{
		const armnn::IOutputSlot *src = layer->GetInputSlot(0).GetConnection();
		const armnn::TensorShape &ws = w.GetShape();
		if (!why.empty() || !src)
			return;
		if (ws.GetNumDimensions() != 2) {
			why = "a fully connected layer's weights are not a matrix: a corrupt file";
			return;
		}
		// TFLite's weights are [units, inputs] (transposed for Arm NN)
		unsigned int row = d.m_TransposeWeightMatrix ? ws[1] : ws[0];
		unsigned int units = d.m_TransposeWeightMatrix ? ws[0] : ws[1];
		unsigned long long nin = src->GetTensorInfo().GetNumElements();
		unsigned long long nout = layer->GetOutputSlot(0).GetTensorInfo().GetNumElements();
		bool ok = row && units && nout % units == 0 && nin == nout / units * row &&
			  (!b.has_value() || b.value().GetNumElements() == units);
		if (!ok)
			why = "a fully connected layer's input (" + std::to_string(nin) +
			      " values) or output (" + std::to_string(nout) +
			      ") does not fit its weights [" + std::to_string(ws[0]) + ", " +
			      std::to_string(ws[1]) + "]: a corrupt file";
	}
};

net *load(const char *buf, size_t n, struct model_info *info, std::string &why)
{
	auto parser = armnnTfLiteParser::ITfLiteParser::Create();
	std::vector<uint8_t> bytes(buf, buf + n);
	armnn::INetworkPtr network = parser->CreateNetworkFromBinary(bytes);
	if (parser->GetSubgraphCount() != 1) {
		why = "more than one subgraph";
		return nullptr;
	}
	fc_check fc;
	network->Accept(fc);
	if (!fc.why.empty()) {
		why = fc.why;
		return nullptr;
	}
	auto ins = parser->GetSubgraphInputTensorNames(0);
	auto outs = parser->GetSubgraphOutputTensorNames(0);
	if (ins.size() != 1 || outs.size() != 1) {
		why = "not one input and one output tensor";
		return nullptr;
	}
	std::unique_ptr<net> m(new net);
	m->in = parser->GetNetworkInputBindingInfo(0, ins[0]);
	m->out = parser->GetNetworkOutputBindingInfo(0, outs[0]);
	unsigned int steps = 0, unused;
	unsigned int ni = flat_size(m->in.second, true, &steps);
	unsigned int no = flat_size(m->out.second, false, &unused);
	if (!ni || !no) {
		why = "the input must be a float32 tensor of shape [1, N] or [1, T, F], "
		      "the output one of shape [1, M]";
		return nullptr;
	}
	m->runtime = armnn::IRuntime::Create(armnn::IRuntime::CreationOptions());
	std::vector<armnn::BackendId> prefer = {armnn::Compute::CpuAcc,
						armnn::Compute::CpuRef};
	armnn::IOptimizedNetworkPtr opt =
		armnn::Optimize(*network, prefer, m->runtime->GetDeviceSpec());
	if (m->runtime->LoadNetwork(m->id, std::move(opt)) != armnn::Status::Success) {
		why = "Arm NN cannot load the network";
		return nullptr;
	}
	info->task = no > 1 ? MODEL_MULTICLASS : MODEL_REGRESSION;
	info->ninputs = (int)ni;
	info->steps = (int)steps;
	info->noutputs = (int)no;
	info->nclasses = no > 1 ? (int)no : 0;
	info->missing_ok = false;
	if (steps)
		snprintf(info->kind, sizeof info->kind,
			 "tflite (libarmnn %s), %u inputs as [1,%u,%u], %u outputs",
			 ARMNN_VERSION, ni, steps, ni / steps, no);
	else
		snprintf(info->kind, sizeof info->kind,
			 "tflite (libarmnn %s), %u inputs, %u outputs", ARMNN_VERSION,
			 ni, no);
	return m.release();
}

// Runs m on zeros, twice: whether Arm NN gives the same outputs both
// times (it does not when a constant's data is shorter than its shape
// says, and reads past it).
bool steady(const net *m)
{
	std::vector<float> x(m->in.second.GetNumElements(), 0.0f);
	std::vector<float> y(m->out.second.GetNumElements()), y2(y.size());
	for (std::vector<float> *out : {&y, &y2}) {
		armnn::InputTensors in{{m->in.first, armnn::ConstTensor(m->in.second, x.data())}};
		armnn::OutputTensors o{{m->out.first, armnn::Tensor(m->out.second, out->data())}};
		if (m->runtime->EnqueueWorkload(m->id, in, o) != armnn::Status::Success)
			return false;
	}
	return !memcmp(y.data(), y2.data(), y.size() * sizeof(float));
}

// Arm NN 20.08 trusts the file: of single bytes changed in a small model,
// about one in forty makes its parser or optimiser crash (SIGSEGV) rather
// than throw, and some that load crash, or read memory outside the
// model, when they run (libFuzzer over tests/fuzz/tflite.c found those).
// So a child process loads the file first and runs it twice on zeros; a
// crash there, or outputs that differ, is this loader's message, never
// the program's end. False with why when the child did not end well.
enum { CHILD_OK, CHILD_UNSTEADY = 3 };

bool survives_load(const char *buf, size_t n, std::string &why)
{
	fflush(nullptr);
	pid_t pid = fork();
	if (pid < 0)
		return true;	// no child: the parent parses alone
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 2);	// the parent says why
		int rc = CHILD_OK;
		try {
			struct model_info info;
			std::string ignored;
			std::unique_ptr<net> m(load(buf, n, &info, ignored));
			if (m && !steady(m.get()))
				rc = CHILD_UNSTEADY;
		} catch (...) {
		}
		_exit(rc);	// else the parent hears why from its own load
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_UNSTEADY) {
		why = "Arm NN gives other outputs each time it runs it: a corrupt file";
		return false;
	}
	// a signal, or a sanitizer's exit status after one
	if (!WIFEXITED(st) || WEXITSTATUS(st) != CHILD_OK) {
		why = "Arm NN crashed on it: a corrupt file";
		return false;
	}
	return true;
}

} // namespace

extern "C" {

static bool tflite_sniff(const char *buf, size_t n)
{
	return n >= 8 && !memcmp(buf + 4, "TFL3", 4);
}

static void *tflite_load(const char *buf, size_t n, struct model_info *info,
			 char *err, size_t errlen)
{
	std::string why;
	try {
		net *m = survives_load(buf, n, why) ? load(buf, n, info, why)
						      : nullptr;
		if (m)
			return m;
	} catch (const std::exception &e) {
		why = e.what();
	} catch (...) {
		why = "unknown error";
	}
	// one line: Arm NN's messages may hold newlines
	for (char &c : why)
		if (c == '\n' || c == '\r')
			c = ' ';
	while (!why.empty() && why.back() == ' ')
		why.pop_back();
	snprintf(err, errlen, "%s", why.c_str());
	return nullptr;
}

static void tflite_predict(const void *impl, const float *x, float *out)
{
	const net *m = static_cast<const net *>(impl);
	try {
		armnn::InputTensors in{{m->in.first, armnn::ConstTensor(m->in.second, x)}};
		armnn::OutputTensors o{{m->out.first, armnn::Tensor(m->out.second, out)}};
		if (m->runtime->EnqueueWorkload(m->id, in, o) == armnn::Status::Success)
			return;
	} catch (...) {
	}
	for (unsigned int i = 0; i < m->out.second.GetNumElements(); i++)
		out[i] = NAN;	// said as a null output, never a crash
}

static void tflite_free(void *impl)
{
	delete static_cast<net *>(impl);
}

const struct model_backend tflite_backend = {
	"TensorFlow Lite", tflite_sniff, tflite_load, tflite_predict, tflite_free,
};

} // extern "C"
