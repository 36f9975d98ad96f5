/** The attack corpus (attack-corpus.ts) with gateway logins moved between tenants. */
import { attackCorpus } from './attack-corpus.ts';

attackCorpus('gateway');
