/* kafka-mock - a Kafka cluster for the tests: librdkafka's mock brokers
 *
 *   kafka-mock BROKERS TOPIC PARTITIONS
 *
 * Starts BROKERS mock brokers on loopback, creates TOPIC with PARTITIONS
 * partitions, prints the bootstrap address list on a line, then serves
 * until standard input closes or SIGINT/SIGTERM. Commands on standard
 * input, one a line, each answered on standard output by the same line
 * once done (so that a test can wait for it):
 *
 *   down ID    disconnect broker ID (1..BROKERS, -1: all) and refuse
 *              connections
 *   up ID      accept connections again
 *
 * Kafka itself is not packaged for Debian; the mock speaks enough of the
 * protocol (metadata, produce, idempotence, fetch) for a producer and kcat.
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The handle the cluster hangs off has no brokers of its own to talk to:
 * its complaints are noise, only real errors are shown. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac,
		   const char *buf)
{
	(void)rk;
	if (level <= 3)
		fprintf(stderr, "kafka-mock: %s: %s\n", fac, buf);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: kafka-mock BROKERS TOPIC PARTITIONS\n");
		return 2;
	}
	int nbrokers = atoi(argv[1]), nparts = atoi(argv[3]);
	if (nbrokers < 1 || nparts < 1) {
		fprintf(stderr, "kafka-mock: BROKERS and PARTITIONS must be above 0\n");
		return 2;
	}
	/* No SA_RESTART: a signal ends the blocked read of the commands. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	char errstr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
				      sizeof errstr);
	if (!rk) {
		fprintf(stderr, "kafka-mock: %s\n", errstr);
		return 1;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, nbrokers);
	if (!mc) {
		fprintf(stderr, "kafka-mock: cannot start the mock cluster\n");
		return 1;
	}
	rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, argv[2], nparts,
							     nbrokers);
	if (err) {
		fprintf(stderr, "kafka-mock: topic %s: %s\n", argv[2],
			rd_kafka_err2str(err));
		return 1;
	}
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);

	char line[256];
	int status = 0;
	while (!stop && fgets(line, sizeof line, stdin)) {
		char cmd[16];
		int id;
		if (sscanf(line, "%15s %d", cmd, &id) != 2) {
			fprintf(stderr, "kafka-mock: bad command: %s", line);
			continue;
		}
		if (!strcmp(cmd, "down"))
			err = rd_kafka_mock_broker_set_down(mc, id);
		else if (!strcmp(cmd, "up"))
			err = rd_kafka_mock_broker_set_up(mc, id);
		else
			err = RD_KAFKA_RESP_ERR__INVALID_ARG;
		if (err) {
			fprintf(stderr, "kafka-mock: %s %d: %s\n", cmd, id,
				rd_kafka_err2str(err));
			status = 1;
			continue;
		}
		printf("%s %d\n", cmd, id);
		fflush(stdout);
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return status;
}
