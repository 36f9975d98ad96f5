/** The attack corpus (attack-corpus.ts) with one login per tenant. */
import { attackCorpus } from './attack-corpus.ts';

attackCorpus('tenant');
